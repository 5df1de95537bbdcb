import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * A few worker threads (one per core) running one script, one request at a time each. The
 * drive's bulk work — sealing on the copy computer, opening at the data centre — is CPU
 * bound, and worker threads use both cores without copying blocks through the main thread.
 */
export class WorkerPool<Request extends object, Reply extends { id: number }> {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private nextId = 0;

  constructor(
    private readonly script: URL,
    private readonly size = Math.max(1, availableParallelism()),
  ) {}

  async run(request: Request): Promise<Reply> {
    const worker = await this.take();
    try {
      const id = this.nextId++;
      return await new Promise<Reply>((resolve, reject) => {
        const onMessage = (message: Reply) => {
          if (message.id !== id) return;
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(message);
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
        worker.postMessage({ ...request, id });
      });
    } finally {
      this.give(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private take(): Promise<Worker> {
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.all.length < this.size) {
      const worker = new Worker(this.script);
      worker.unref();
      this.all.push(worker);
      return Promise.resolve(worker);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private give(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }
}
