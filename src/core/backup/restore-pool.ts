import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { BlobIdScheme, MasterKey } from '../repo/crypto.js';
import { taskPlaces, WorkerThreads } from '../util/worker-pool.js';
import { takeBatch } from './batches.js';
import type { FileJob, FromRestoreWorker, JobResult, RestoreWorkerInit, ToRestoreWorker } from './restore-protocol.js';

interface Waiter {
  resolve: (result: JobResult) => void;
}

interface QueuedJob extends Waiter {
  job: FileJob;
  /** Plaintext bytes, for batching. */
  size: number;
}

/**
 * Batches a worker holds at once: the one it works on and the next. With one, a worker sat
 * idle from sending its answer until main, busy loading trees and queueing files, got round
 * to the message — most of the first two seconds of a 2 GB restore (perf, per thread).
 */
const BATCHES_PER_WORKER = 2;

/**
 * Worker threads that decode data blobs and write them into files. File jobs (packs on a
 * local disk) queue and go to workers in batches, up to BATCHES_PER_WORKER each; single
 * blobs (fetched by main from a remote store) go round robin.
 */
export class RestorePool {
  private readonly threads: WorkerThreads<FromRestoreWorker>;
  private readonly workers: readonly Worker[];
  /** Workers with room for another batch; one entry per free place. */
  private readonly idle: Worker[];
  private readonly queue: QueuedJob[] = [];
  private readonly batches = new Map<number, QueuedJob[]>();
  private readonly blobs = new Map<number, Waiter>();
  private next = 0;
  private failure?: Error;

  constructor(key: MasterKey, blobIds: BlobIdScheme, verifyIds: boolean, threads = availableParallelism()) {
    this.threads = new WorkerThreads(new URL('./restore-worker.js', import.meta.url), {
      message: (worker, reply) => this.settle(worker, reply),
      failure: (_worker, error) => this.failAll(error),
    });
    const init: RestoreWorkerInit = { encryption: key.encryption, mac: key.mac, blobIds, verifyIds };
    for (let i = 0; i < Math.max(1, threads); i++) this.threads.spawn(init);
    this.workers = this.threads.all;
    this.idle = taskPlaces(this.workers, BATCHES_PER_WORKER);
  }

  /** Restores one file (or a segment of one) from local pack files; resolves when written. */
  restoreFile(job: FileJob, size: number): Promise<JobResult> {
    if (this.failure) return Promise.resolve({ bytes: 0, error: this.failure.message });
    return new Promise((resolve) => {
      this.queue.push({ job, size, resolve });
      this.dispatch();
    });
  }

  /**
   * Decodes `sealed` and writes its plaintext at `offset` of `fd`; resolves to the bytes written.
   * The bytes always go to the worker by transfer, never by structured clone: cloning a view
   * copies its whole ArrayBuffer, so each blob cut from a 16 MiB ranged read sent all 16 MiB
   * (6 of the 9.5 s of a 1 GB restore from the vault went to postMessage). With `handOver`, the
   * caller is done with the bytes: a view of a whole ArrayBuffer moves as it is; anything else
   * is first copied into an ArrayBuffer of its own.
   */
  write(fd: number, offset: number, id: string, sealed: Buffer, handOver = false): Promise<number> {
    if (this.failure) return Promise.reject(new Error(this.failure.message));
    const job = this.next++;
    const whole = handOver && sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength;
    const bytes = whole ? sealed : Buffer.from(new Uint8Array(sealed).buffer);
    const msg: ToRestoreWorker = { kind: 'blob', job, id, sealed: bytes, fd, offset };
    const worker = this.workers[job % this.workers.length];
    return new Promise((resolve, reject) => {
      this.blobs.set(job, { resolve: (r) => (r.error === undefined ? resolve(r.bytes) : reject(new Error(r.error))) });
      worker.postMessage(msg, [bytes.buffer as ArrayBuffer]);
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift()!;
      const jobs = takeBatch(this.queue);
      const batch = this.next++;
      this.batches.set(batch, jobs);
      worker.postMessage({ kind: 'files', batch, files: jobs.map((j) => j.job) } satisfies ToRestoreWorker);
    }
  }

  private settle(worker: Worker, reply: FromRestoreWorker): void {
    if (reply.kind === 'blob') {
      const waiter = this.blobs.get(reply.job);
      this.blobs.delete(reply.job);
      waiter?.resolve(reply);
      return;
    }
    const jobs = this.batches.get(reply.batch) ?? [];
    this.batches.delete(reply.batch);
    this.idle.push(worker);
    this.dispatch();
    jobs.forEach((j, i) => j.resolve(reply.results[i]));
  }

  private failAll(e: Error): void {
    this.failure ??= e;
    const failed = { bytes: 0, error: e.message };
    for (const waiter of this.blobs.values()) waiter.resolve(failed);
    this.blobs.clear();
    for (const jobs of this.batches.values()) for (const j of jobs) j.resolve(failed);
    this.batches.clear();
    for (const j of this.queue.splice(0)) j.resolve(failed);
  }

  close(): Promise<void> {
    return this.threads.terminate();
  }
}
