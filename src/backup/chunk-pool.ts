import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Repository } from '../repo/repository.js';
import type { FileResult, FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';
import { DEFAULT_LEVEL } from '../repo/compression.js';

/** Small files travel to a worker in batches: one message per file would cost more than the file. */
const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Sealed bytes waiting for the packer before workers are held back (backpressure). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

interface QueuedFile {
  path: string;
  size: number;
  resolve: (result: FileResult) => void;
}

interface RunningTask {
  files: QueuedFile[];
}

/**
 * Worker threads that turn files into stored data blobs. The pool owns the dedup decision
 * (it answers the workers' queries from the repository's index) and hands the sealed blobs
 * to the repository's packer on the main thread.
 */
export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: QueuedFile[] = [];
  private readonly running = new Map<number, RunningTask>();
  private nextTask = 0;
  private failure?: Error;
  /** Blob writes run one at a time, in arrival order, so the packer sees a simple stream. */
  private writes: Promise<void> = Promise.resolve();
  private queuedBytes = 0;

  constructor(
    private readonly repo: Repository,
    private readonly threads = availableParallelism(),
  ) {}

  /** Workers start on the first changed file: an unchanged backup needs none of them. */
  private startWorkers(): void {
    const init: WorkerInit = {
      encryption: this.repo.key.encryption,
      mac: this.repo.key.mac,
      chunkerSeed: this.repo.key.chunkerSeed,
      level: DEFAULT_LEVEL,
    };
    for (let i = 0; i < Math.max(1, this.threads); i++) {
      const worker = new Worker(new URL('./chunk-worker.js', import.meta.url), { workerData: init });
      worker.on('message', (msg: FromWorker) => this.onMessage(worker, msg));
      worker.on('error', (e) => this.fail(e));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Resolves when the file's blobs are handed to the packer. */
  chunk(path: string, size: number): Promise<FileResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.workers.length === 0) this.startWorkers();
    return new Promise((resolve) => {
      this.queue.push({ path, size, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const files = this.takeBatch();
      const task = this.nextTask++;
      this.running.set(task, { files });
      const msg: ToWorker = { kind: 'task', task, files: files.map((f) => ({ path: f.path })) };
      worker.postMessage(msg);
    }
  }

  private takeBatch(): QueuedFile[] {
    const batch = [this.queue.shift()!];
    let bytes = batch[0].size;
    while (this.queue.length > 0 && batch.length < BATCH_FILES && bytes + this.queue[0].size <= BATCH_BYTES) {
      const next = this.queue.shift()!;
      bytes += next.size;
      batch.push(next);
    }
    return batch;
  }

  private onMessage(worker: Worker, msg: FromWorker): void {
    switch (msg.kind) {
      case 'query': {
        const reply = () => {
          const want = msg.ids.map((id) => this.repo.claim(id));
          worker.postMessage({ kind: 'want', task: msg.task, want } satisfies ToWorker);
        };
        // A worker waits for its answer, so holding the answer back is the backpressure.
        if (this.queuedBytes > MAX_QUEUED_BYTES) void this.writes.finally(reply);
        else reply();
        return;
      }
      case 'blobs':
        for (const blob of msg.blobs) {
          const sealed = Buffer.from(blob.sealed.buffer, blob.sealed.byteOffset, blob.sealed.byteLength);
          this.queuedBytes += sealed.length;
          this.writes = this.writes.then(async () => {
            await this.repo.addSealedBlob('data', blob.id, sealed, blob.rawLength);
            this.queuedBytes -= sealed.length;
          });
        }
        this.writes.catch((e) => this.fail(e));
        return;
      case 'done': {
        const task = this.running.get(msg.task)!;
        this.running.delete(msg.task);
        this.idle.push(worker);
        this.dispatch();
        // A file is done only once its blobs are in the packer's hands.
        void this.writes.then(() => task.files.forEach((f, i) => f.resolve(msg.results[i])));
        return;
      }
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const task of this.running.values()) {
      for (const f of task.files) f.resolve({ content: [], size: 0, error: error.message });
    }
    this.running.clear();
  }

  /** Waits for every blob handed over so far. */
  async drain(): Promise<void> {
    await this.writes;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
