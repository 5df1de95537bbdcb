import { availableParallelism } from 'node:os';
import { Worker, type TransferListItem } from 'node:worker_threads';

/** What a pool hears from its threads. */
export interface ThreadEvents<Reply> {
  message(worker: Worker, reply: Reply): void;
  /** The thread threw, or stopped before it was terminated: what it held is lost. Once per thread. */
  failure(worker: Worker, error: Error): void;
}

/**
 * The life of a pool's worker threads, the same in every pool: started from one script,
 * each message handed on with the thread it came from, an uncaught error or an early exit
 * reported once as that thread's failure (a thread that just stops would otherwise leave
 * what it held waiting for ever), and all terminated together.
 *
 * Which thread gets what work, and when, stays with each pool. One scheduler for all three
 * would have to know the chunk pool's scans, ranges, dedup queries and lent pack buffers,
 * the restore pool's file batches and round-robin blobs, and the drive pools' one request
 * per thread: each pool reads simpler on its own, and each was tuned by measurement.
 */
/**
 * The young generation of each worker's heap, in MB. The workers move data in Buffers and
 * allocate little on their heaps, but V8 let each one's young generation grow to its default
 * (48 MB): a first backup of 100,000 small files peaked at 440 MB of RSS, 336–366 MB with
 * this limit, for the same CPU time (3.7–3.9 s user either way).
 */
const WORKER_YOUNG_GENERATION_MB = 6;

export class WorkerThreads<Reply> {
  private readonly threads: Worker[] = [];
  private readonly failed = new Set<Worker>();
  private terminating = false;

  constructor(
    private readonly script: URL,
    private readonly events: ThreadEvents<Reply>,
  ) {}

  get all(): readonly Worker[] {
    return this.threads;
  }

  /** Starts one more thread; what `transferList` names moves to it instead of being copied. */
  spawn(workerData?: unknown, transferList?: TransferListItem[]): Worker {
    const worker = new Worker(this.script, { workerData, transferList, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    worker.on('message', (reply: Reply) => this.events.message(worker, reply));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', (code) => {
      if (!this.terminating) this.fail(worker, new Error(`a worker thread stopped (exit code ${code})`));
    });
    this.threads.push(worker);
    return worker;
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    await Promise.all(this.threads.map((w) => w.terminate()));
  }

  private fail(worker: Worker, error: Error): void {
    if (this.failed.has(worker)) return;
    this.failed.add(worker);
    this.events.failure(worker, error);
  }
}

/**
 * Places for tasks, `perWorker` for each worker: a worker that holds its next task starts it
 * as soon as it is done with one, without a round trip to main, which is busiest exactly
 * when tasks are small. Every worker's first place comes before anyone's second, so the work
 * spreads over all of them from the start.
 */
export function taskPlaces(workers: readonly Worker[], perWorker: number): Worker[] {
  const places: Worker[] = [];
  for (let i = 0; i < perWorker; i++) places.push(...workers);
  return places;
}

interface HeldRequest<Reply> {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/**
 * A few worker threads (one per core) running one script, one request at a time each, each
 * request answered by one reply. The drive's bulk work — sealing on the copy computer,
 * opening at the data centre — is CPU bound, and worker threads use both cores without
 * copying blocks through the main thread. Threads start as requests need them, and keep the
 * process alive only while they hold one. A thread's failure fails its request and every
 * later one: the callers stop at their first failed file anyway.
 */
export class WorkerPool<Request, Reply> {
  private readonly threads: WorkerThreads<Reply>;
  private readonly idle: Worker[] = [];
  private readonly waiting: HeldRequest<Worker>[] = [];
  private readonly held = new Map<Worker, HeldRequest<Reply>>();
  private failure?: Error;

  constructor(
    script: URL,
    private readonly size = Math.max(1, availableParallelism()),
  ) {
    this.threads = new WorkerThreads(script, {
      message: (worker, reply) => this.held.get(worker)?.resolve(reply),
      failure: (worker, error) => this.fail(worker, error),
    });
  }

  async run(request: Request): Promise<Reply> {
    const worker = await this.take();
    // Only a thread that holds a request keeps the process alive: the caller waits for it.
    worker.ref();
    try {
      return await new Promise<Reply>((resolve, reject) => {
        this.held.set(worker, { resolve, reject });
        worker.postMessage(request);
      });
    } finally {
      worker.unref();
      this.held.delete(worker);
      this.give(worker);
    }
  }

  close(): Promise<void> {
    return this.threads.terminate();
  }

  private take(): Promise<Worker> {
    if (this.failure) return Promise.reject(this.failure);
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.threads.all.length < this.size) return Promise.resolve(this.threads.spawn());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private give(worker: Worker): void {
    if (this.failure) return;
    const next = this.waiting.shift();
    if (next) next.resolve(worker);
    else this.idle.push(worker);
  }

  private fail(worker: Worker, error: Error): void {
    this.failure ??= error;
    this.held.get(worker)?.reject(error);
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
