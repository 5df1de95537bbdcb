import { lstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Repository } from '../repo/repository.js';
import { PACK_BUFFER_SIZE } from '../repo/pack.js';
import type { FileResult, FileStat, FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';
import { changeWhileRead, fileStatOf } from './changed-while-read.js';
import { DEFAULT_LEVEL } from '../repo/compression.js';
import { taskPlaces, WorkerThreads } from '../util/worker-pool.js';
import { takeBatch } from './batches.js';

/**
 * Pack buffers beyond one per worker: packs being stored while the workers fill the next ones.
 * Filling a 16 MiB pack takes a worker a few tenths of a second; storing it (written and
 * fsynced, or sent to the vault) takes one to two tenths on a busy machine, so with a single
 * spare buffer a worker sometimes waited. Two (about 40 MiB of RSS) made the 1 GB service bench
 * 2–3% faster locally and online (bench/service-bench.mjs).
 */
const PACKS_UPLOADING = 2;

/**
 * Tasks a worker holds at once: the one it works on and the next, which it starts without a
 * round trip to main (the worker runs them in order). With one, workers waited on main for
 * a fifth of the time in the small-file part of a backup (perf, per thread).
 */
const TASKS_PER_WORKER = 2;

/** What a file not stat'ed yet counts for in a batch. */
const UNKNOWN_SIZE = 128 * 1024;

interface QueuedFile {
  path: string;
  size: number;
  resolve: (result: FileResult) => void;
}

/**
 * Files at least this large are cut by one worker (a `scan`) and sealed by every worker in
 * ranges (chunk-worker.ts): a VM disk image or a database dump is the typical first backup
 * of an offline seed, and one worker alone used one of the two cores for all of it.
 */
export const SPLIT_FILE_SIZE = 64 * 1024 * 1024;

/** A large file being cut by one worker and sealed in ranges by all. */
interface SplitFile {
  path: string;
  resolve: (result: FileResult) => void;
  scanner: Worker;
  /** Each range's result, in file order. */
  ranges: (FileResult | undefined)[];
  rangesPending: number;
  nextOffset: number;
  scan?: FileResult;
}

interface QueuedRange {
  split: SplitFile;
  index: number;
  path: string;
  offset: number;
  lengths: number[];
}

interface QueuedChunks {
  buffer: ArrayBuffer;
  lengths: number[];
  resolve: (result: SealedChunks) => void;
}

/** Sealed chunks' ids, and their buffer back (not when the pool failed) to be filled again. */
export type SealedChunks = FileResult & { buffer?: ArrayBuffer };

type RunningTask = { files: QueuedFile[] } | { scan: SplitFile; path: string } | { range: QueuedRange } | { chunks: QueuedChunks };

/** Ranges are read after the scan's own before-and-after check: a change after it shows once all are read. */
function changedSinceScan(path: string, scanned: FileStat | undefined): string | undefined {
  if (!scanned) return undefined;
  const now = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  if (!now) return 'it was removed';
  return changeWhileRead(scanned, fileStatOf(now));
}

/** What the pool needs of a repository: its keys and id schemes, claims, and pack uploads. */
type PoolRepository = Pick<Repository, 'key' | 'blobIdScheme' | 'fileIdScheme' | 'claim' | 'storePack'>;

/**
 * Worker threads that turn files into stored data packs. The pool owns the dedup decision (it
 * answers the workers' queries from the repository's index), lends the workers pack buffers
 * (moved by transfer, never copied) and uploads the packs they fill. The buffers are the
 * pool's whole data memory: (workers + PACKS_UPLOADING) × PACK_BUFFER_SIZE, allocated once and
 * reused; a worker whose pack is full waits for a free buffer, which holds back reading when
 * uploads are slow.
 */
export class ChunkPool {
  private readonly workerThreads = new WorkerThreads<FromWorker>(new URL('./chunk-worker.js', import.meta.url), {
    message: (worker, msg) => this.onMessage(worker, msg),
    failure: (_worker, error) => this.fail(error),
  });
  private readonly workers = this.workerThreads.all;
  /** Workers with room for another task; one entry per free place. */
  private readonly idle: Worker[] = [];
  private readonly queue: QueuedFile[] = [];
  /** Batches of a stream's chunks, cut on main, to be sealed by any worker. */
  private readonly chunkBatches: QueuedChunks[] = [];
  /** Ranges of a scanned file: they go before new files, so the file finishes and its memory goes. */
  private readonly ranges: QueuedRange[] = [];
  /** One large file at a time is scanned: the other workers are there to help that one. */
  private scanning?: SplitFile;
  private readonly running = new Map<number, RunningTask>();
  private nextTask = 0;
  private failure?: Error;
  private readonly freeBuffers: ArrayBuffer[] = [];
  /** Workers that handed over a full pack and wait for a buffer, in order. */
  private readonly waitingForBuffer: Worker[] = [];
  private readonly uploads = new Set<Promise<void>>();
  private readonly flushed = new Map<Worker, () => void>();
  /** Large files split across the workers: ranges their scanner sealed, and ranges handed to any worker. */
  readonly splits = { files: 0, rangesKept: 0, rangesHandedOut: 0 };

  constructor(
    private readonly repo: PoolRepository,
    private readonly threads = availableParallelism(),
    private readonly packBufferSize = PACK_BUFFER_SIZE,
    private readonly splitFileSize = SPLIT_FILE_SIZE,
  ) {}

  /** Workers start on the first changed file: an unchanged backup needs none of them. */
  private startWorkers(): void {
    const count = Math.max(1, this.threads);
    // Pages are committed as packs fill them, not at allocation. Buffers are moved between
    // threads by transfer: not shared memory, which stores that hand bytes to fetch refuse.
    for (let i = 0; i < PACKS_UPLOADING; i++) this.freeBuffers.push(new ArrayBuffer(this.packBufferSize));
    for (let i = 0; i < count; i++) {
      const packBuffer = new ArrayBuffer(this.packBufferSize);
      const init: WorkerInit = {
        encryption: this.repo.key.encryption,
        mac: this.repo.key.mac,
        blobIds: this.repo.blobIdScheme,
        fileIds: this.repo.fileIdScheme,
        chunkerSeed: this.repo.key.chunkerSeed,
        level: DEFAULT_LEVEL,
        packBuffer,
      };
      this.workerThreads.spawn(init, [packBuffer]);
    }
    this.idle.push(...taskPlaces(this.workers, TASKS_PER_WORKER));
  }

  /**
   * Resolves with the file's blob ids (and its fstat) once a worker has cut the file. Its new
   * blobs go into packs later, all of them by the end of drain(): nothing that refers to them
   * may be stored before (the archiver writes its snapshot after drain). `size` from a stat,
   * if the caller took one, helps batching.
   */
  chunk(path: string, size = UNKNOWN_SIZE): Promise<FileResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.workers.length === 0) this.startWorkers();
    return new Promise((resolve) => {
      this.queue.push({ path, size, resolve });
      this.dispatch();
    });
  }

  /**
   * Seals chunks cut elsewhere (a stream's, stream-archiver.ts): `buffer` holds them back to
   * back and moves to a worker (transferred: the caller must not touch it again). Resolves with
   * their blob ids in order once they are sealed; like chunk()'s, their packs are stored by drain().
   */
  sealChunks(buffer: ArrayBuffer, lengths: number[]): Promise<SealedChunks> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.workers.length === 0) this.startWorkers();
    return new Promise((resolve) => {
      this.chunkBatches.push({ buffer, lengths, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (let i = 0; i < this.idle.length;) {
      const worker = this.idle[i];
      const task = this.nextTask;
      const msg = this.nextJob(worker, task);
      if (!msg) {
        i++;
        continue;
      }
      this.idle.splice(i, 1);
      this.nextTask++;
      worker.postMessage(msg, msg.kind === 'chunks' ? [msg.buffer] : []);
    }
  }

  /**
   * Ranges of a scanned file first, so it finishes and its memory goes; never to its scanner
   * while it scans, where the range would wait behind the scan. Then queued files: a large
   * one is scanned when no other is, the rest go in batches.
   */
  private nextJob(worker: Worker, task: number): ToWorker | undefined {
    if (this.ranges.length > 0 && worker !== this.scanning?.scanner) {
      const range = this.ranges.shift()!;
      this.running.set(task, { range });
      return { kind: 'range', task, path: range.path, offset: range.offset, lengths: range.lengths };
    }
    const batch = this.chunkBatches.shift();
    if (batch) {
      this.running.set(task, { chunks: batch });
      return { kind: 'chunks', task, buffer: batch.buffer, lengths: batch.lengths };
    }
    if (this.queue.length === 0) return undefined;
    if (this.queue[0].size >= this.splitFileSize && this.workers.length > 1 && !this.scanning) {
      const file = this.queue.shift()!;
      this.scanning = { path: file.path, resolve: file.resolve, scanner: worker, ranges: [], rangesPending: 0, nextOffset: 0 };
      this.splits.files++;
      this.running.set(task, { scan: this.scanning, path: file.path });
      return { kind: 'scan', task, path: file.path };
    }
    const files = takeBatch(this.queue);
    this.running.set(task, { files });
    return { kind: 'task', task, files: files.map((f) => ({ path: f.path })) };
  }

  /** The scanner's next range: sealed by the scanner already, or queued for any worker. */
  private addRange(task: RunningTask, lengths: number[], content: string[] | undefined): void {
    if (!('scan' in task)) return;
    const split = task.scan;
    const offset = split.nextOffset;
    const size = lengths.reduce((a, b) => a + b, 0);
    split.nextOffset += size;
    if (content) {
      this.splits.rangesKept++;
      split.ranges.push({ content, size });
      return;
    }
    this.splits.rangesHandedOut++;
    split.rangesPending++;
    this.ranges.push({ split, index: split.ranges.push(undefined) - 1, path: task.path, offset, lengths });
    this.dispatch();
  }

  private taskDone(task: RunningTask, results: FileResult[], buffer?: ArrayBuffer): void {
    if ('files' in task) {
      task.files.forEach((f, i) => f.resolve(results[i]));
    } else if ('chunks' in task) {
      task.chunks.resolve({ ...results[0], ...(buffer ? { buffer } : {}) });
    } else if ('scan' in task) {
      task.scan.scan = results[0];
      if (this.scanning === task.scan) this.scanning = undefined;
      this.finishSplit(task.scan);
    } else {
      const { split, index } = task.range;
      split.ranges[index] = results[0];
      split.rangesPending--;
      split.scanner.postMessage({ kind: 'rangeDone' } satisfies ToWorker);
      this.finishSplit(split);
    }
  }

  /** Once the scan and all its ranges are done: the file's blobs in order, or the first error. */
  private finishSplit(split: SplitFile): void {
    if (!split.scan || split.rangesPending > 0) return;
    const parts = split.ranges as FileResult[];
    const failed = [split.scan, ...parts].find((r) => r.error !== undefined);
    if (failed) return split.resolve({ content: [], size: 0, error: failed.error });
    const changed = [split.scan, ...parts].find((r) => r.changed !== undefined)?.changed ?? changedSinceScan(split.path, split.scan.stat);
    const content = parts.flatMap((r) => r.content);
    split.resolve({ content, size: parts.reduce((n, r) => n + r.size, 0), stat: split.scan.stat, ...(changed ? { changed } : {}) });
  }

  private onMessage(worker: Worker, msg: FromWorker): void {
    // A failed pool has answered everything it held; the workers still running are stopped at close().
    if (this.failure) return;
    switch (msg.kind) {
      case 'query': {
        const want = msg.ids.map((id) => this.repo.claim(id));
        worker.postMessage({ kind: 'want', want } satisfies ToWorker);
        return;
      }
      case 'pack': {
        this.lendBuffer(worker);
        const bytes = new Uint8Array(msg.buffer, 0, msg.length);
        // Objects from a message each get a hidden class of their own (71k of them for a 2 GB
        // backup); the index keeps these for the whole run, so rebuild them with one shape.
        const blobs = msg.entry.blobs.map((b) => ({ type: b.type, id: b.id, offset: b.offset, length: b.length, rawLength: b.rawLength }));
        const upload: Promise<void> = this.repo
          .storePack({ id: msg.entry.id, size: msg.entry.size, blobs }, bytes)
          .then(
            () => this.returnBuffer(msg.buffer),
            (e) => this.fail(e as Error),
          )
          .finally(() => this.uploads.delete(upload));
        this.uploads.add(upload);
        return;
      }
      case 'cuts':
        this.addRange(this.running.get(msg.task)!, msg.lengths, msg.content);
        return;
      case 'done': {
        const task = this.running.get(msg.task)!;
        this.running.delete(msg.task);
        this.idle.push(worker);
        this.dispatch();
        this.taskDone(task, msg.results, msg.buffer);
        return;
      }
      case 'flushed':
        this.flushed.get(worker)?.();
        return;
    }
  }

  private lendBuffer(worker: Worker): void {
    const free = this.freeBuffers.pop();
    if (free === undefined) this.waitingForBuffer.push(worker);
    else worker.postMessage({ kind: 'buffer', buffer: free } satisfies ToWorker, [free]);
  }

  /** Once a pack is stored its buffer goes to the worker waiting longest, or back to the free list. */
  private returnBuffer(buffer: ArrayBuffer): void {
    const worker = this.waitingForBuffer.shift();
    if (worker) worker.postMessage({ kind: 'buffer', buffer } satisfies ToWorker, [buffer]);
    else this.freeBuffers.push(buffer);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const failed = { content: [], size: 0, error: error.message };
    for (const task of this.running.values()) {
      if ('files' in task) for (const f of task.files) f.resolve(failed);
      else if ('chunks' in task) task.chunks.resolve(failed);
      else ('scan' in task ? task.scan : task.range.split).resolve(failed);
    }
    this.running.clear();
    this.ranges.length = 0;
    for (const file of this.queue.splice(0)) file.resolve(failed);
    for (const batch of this.chunkBatches.splice(0)) batch.resolve(failed);
    for (const done of this.flushed.values()) done();
    this.flushed.clear();
  }

  /** Has every worker hand over its partial pack, and waits until every pack is stored. */
  async drain(): Promise<void> {
    if (!this.failure) {
      await Promise.all(
        this.workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              this.flushed.set(worker, resolve);
              worker.postMessage({ kind: 'flush' } satisfies ToWorker);
            }),
        ),
      );
      this.flushed.clear();
    }
    while (this.uploads.size > 0) await Promise.all(this.uploads);
    if (this.failure) throw this.failure;
  }

  close(): Promise<void> {
    return this.workerThreads.terminate();
  }
}
