import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { MasterKey } from '../repo/crypto.js';
import type { RestoreJob, RestoreReply, RestoreWorkerInit } from './restore-protocol.js';

/** Worker threads that decode data blobs and write them into open files, round robin. */
export class RestorePool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (bytes: number) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(key: MasterKey, threads = availableParallelism()) {
    const init: RestoreWorkerInit = { encryption: key.encryption, mac: key.mac };
    for (let i = 0; i < Math.max(1, threads); i++) {
      const worker = new Worker(new URL('./restore-worker.js', import.meta.url), { workerData: init });
      worker.on('message', (reply: RestoreReply) => this.settle(reply));
      worker.on('error', (e) => this.failAll(e));
      this.workers.push(worker);
    }
  }

  /** Decodes `sealed` and writes its plaintext at `offset` of `fd`; resolves to the bytes written. */
  write(fd: number, offset: number, id: string, sealed: Buffer): Promise<number> {
    const job = this.next++;
    const msg: RestoreJob = { job, id, sealed, fd, offset };
    const worker = this.workers[job % this.workers.length];
    const owned = sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength;
    return new Promise((resolve, reject) => {
      this.waiting.set(job, { resolve, reject });
      worker.postMessage(msg, owned ? [sealed.buffer as ArrayBuffer] : []);
    });
  }

  private settle(reply: RestoreReply): void {
    const waiter = this.waiting.get(reply.job);
    this.waiting.delete(reply.job);
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply.bytes!);
  }

  private failAll(e: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(e);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
