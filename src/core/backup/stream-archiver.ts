import { availableParallelism, hostname } from 'node:os';
import { DriveseedError } from '../errors.js';
import { Chunker, gearTable, MAX_CHUNK } from '../repo/chunker.js';
import type { Id } from '../repo/ids.js';
import type { Repository } from '../repo/repository.js';
import { SNAPSHOT_VERSION, type Snapshot, type SnapshotSummary } from '../repo/snapshot.js';
import { encodeTree, isPathComponent, type TreeNode } from '../repo/tree.js';
import { currentUsername } from '../util/current-user.js';
import { findParent, type BackupResult } from './archiver.js';
import { ChunkPool, type SealedChunks } from './chunk-pool.js';

/**
 * The chunker's window: a stream cannot be read twice, so it is cut as it arrives, in a buffer
 * of this size (the whole data memory of a stream backup beside the packs being built). Two
 * maximal chunks at least, so a cut is always found without waiting for more.
 */
const STREAM_BUFFER_SIZE = 4 * MAX_CHUNK;

export interface StreamSource {
  /** The bytes, read once. */
  data: AsyncIterable<Uint8Array>;
  /** Called once the data has ended: throws when the stream's producer failed (a dump that exited non-zero), so no snapshot is written. */
  finished?: () => Promise<void>;
  /** Stops the producer when the backup fails on its own side (the repository's storage). */
  cancel?: () => void;
  /** What the stream is, for the message when it is empty ("stdin", "pg_dump"). */
  what: string;
}

export interface StreamBackupOptions {
  /** The file's path in the snapshot (restic's --stdin-filename): `db.sql` is stored as `/db.sql`. */
  filename: string;
  tags?: string[];
  onProgress?: (bytes: number) => void;
}

/** A stream's path in a snapshot, as an absolute path of file-name components; USAGE if it is not one. */
export function streamPath(filename: string): string[] {
  const parts = filename.split('/').filter((p) => p !== '');
  if (parts.length === 0 || !parts.every(isPathComponent)) {
    throw new DriveseedError('USAGE', `--stdin-filename ${JSON.stringify(filename)} is not a file name`, {
      hint: 'give a name such as db.sql or dumps/db.sql',
    });
  }
  return parts;
}

/**
 * Backs up one stream (stdin, a database dump) as one file of a new snapshot. It is cut by the
 * same content-defined chunker, with the repository's seed, as files are, so a stream and a
 * file of the same bytes share every blob and successive dumps deduplicate. It is cut on this
 * thread as it arrives and sealed by the worker pool (chunkStream), and memory stays at one
 * window and a few batches however long the stream is. The snapshot is
 * written only after the stream ended and its producer said it succeeded; blobs stored before
 * a failure belong to no snapshot (as after a killed backup) and prune removes them.
 */
export async function backupStream(repo: Repository, source: StreamSource, options: StreamBackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const parts = streamPath(options.filename);
  const path = '/' + parts.join('/');
  const parent = await findParent(repo, [path]);
  await repo.indexUnindexedPacks();
  const bytesAddedBefore = repo.bytesAdded;

  const { content, size } = await storeStream(repo, source, options.onProgress);

  const tree = await saveStreamTree(repo, parts, { size, content });
  await repo.flush();
  await repo.consolidateIndex();
  const summary: SnapshotSummary = {
    filesNew: 1,
    filesChanged: 0,
    filesUnchanged: 0,
    dirs: parts.length - 1,
    bytesRead: size,
    bytesAdded: repo.bytesAdded - bytesAddedBefore,
    totalFiles: 1,
    totalBytes: size,
    errors: 0,
    durationMs: Date.now() - started,
  };
  const snapshot: Snapshot = {
    version: SNAPSHOT_VERSION,
    time: new Date().toISOString(),
    tree,
    paths: [path],
    hostname: hostname(),
    username: currentUsername(),
    tags: options.tags ?? [],
    excludes: [],
    ...(parent ? { parent: parent.id } : {}),
    summary,
  };
  const snapshotId = await repo.saveSnapshot(snapshot);
  return { snapshotId, snapshot, summary, warnings: [] };
}

/**
 * A stream's blobs, stored: its data blob ids in order and its length, once it ended and its
 * producer said it succeeded. Throws (and stops the producer) otherwise, or when it was empty.
 */
export async function storeStream(repo: Repository, source: StreamSource, onProgress?: (bytes: number) => void): Promise<{ content: Id[]; size: number }> {
  let chunked: { content: Id[]; size: number };
  try {
    chunked = await chunkStream(repo, source.data, onProgress);
  } catch (e) {
    source.cancel?.();
    throw e;
  }
  await source.finished?.();
  if (chunked.size === 0) throw new DriveseedError('IO', `${source.what} gave no data; no snapshot saved`);
  return chunked;
}

/** Bytes of chunks handed to a worker at once: a round trip per 8 MiB, not per chunk. */
const BATCH_BYTES = 8 * 1024 * 1024;
/**
 * Sealing workers: one core fewer than there are, as this thread cuts and copies the stream
 * (and its producer runs too); each worker costs a pack buffer and a heap (40 MB or so).
 */
const STREAM_WORKERS = Math.max(1, availableParallelism() - 1);
/** Batches being sealed at once: every worker busy, and the next one queued behind each. */
const BATCHES_IN_FLIGHT = 4;

/**
 * Chunks cut from the stream, copied back to back into a buffer that moves to a worker. The
 * window cannot move there itself: it is the chunker's memory, and the stream goes on in it.
 */
class ChunkBatch {
  readonly lengths: number[] = [];
  bytes = 0;

  /** A buffer a worker gave back, or a new one: a stream uses BATCHES_IN_FLIGHT + 1 of them, whatever its length. */
  constructor(readonly buffer = new ArrayBuffer(BATCH_BYTES + MAX_CHUNK)) {}

  add(chunk: Uint8Array): void {
    new Uint8Array(this.buffer, this.bytes, chunk.length).set(chunk);
    this.lengths.push(chunk.length);
    this.bytes += chunk.length;
  }
}

/**
 * Cuts the stream into chunks on this thread (the gear scan runs at over a GB/s) and has the
 * worker pool hash, compress and seal them, a batch at a time, so a fast stream keeps both
 * cores busy: sealing on this thread alone made a 1 GiB stream take 1.5–1.75× as long as the
 * same bytes as a file (docs/workloads.md). A stream that ends within its first batch (a
 * small item) is sealed here, without starting the workers.
 */
async function chunkStream(repo: Repository, data: AsyncIterable<Uint8Array>, onProgress?: (bytes: number) => void): Promise<{ content: Id[]; size: number }> {
  const chunker = new Chunker(gearTable(repo.key.chunkerSeed), STREAM_BUFFER_SIZE);
  const window = chunker.buffer;
  const input = data[Symbol.asyncIterator]();
  let leftover: Uint8Array | undefined;
  let start = 0;
  let end = 0;
  let eof = false;
  let size = 0;
  let pool: ChunkPool | undefined;
  const sealed: Promise<SealedChunks>[] = [];
  let batch = new ChunkBatch();
  const returned: ArrayBuffer[] = [];

  /** Moves what is left to the front and reads until the window is full or the stream ends. */
  const fill = async (): Promise<void> => {
    window.copyWithin(0, start, end);
    end -= start;
    start = 0;
    while (end < window.length) {
      if (!leftover || leftover.length === 0) {
        const next = await input.next();
        if (next.done) {
          eof = true;
          return;
        }
        leftover = next.value;
      }
      const n = Math.min(leftover.length, window.length - end);
      window.set(leftover.subarray(0, n), end);
      leftover = leftover.subarray(n);
      end += n;
    }
  };

  /** The batch to a worker; waits while BATCHES_IN_FLIGHT are being sealed, which holds back reading. */
  const handOver = async (): Promise<void> => {
    pool ??= new ChunkPool(repo, STREAM_WORKERS);
    const sealing = pool.sealChunks(batch.buffer, batch.lengths);
    sealing.then(
      (r) => r.buffer && returned.push(r.buffer),
      () => undefined, // a failed pool rejects; Promise.all below reports it, or the error that stopped the loop wins
    );
    sealed.push(sealing);
    batch = new ChunkBatch(returned.pop());
    if (sealed.length >= BATCHES_IN_FLIGHT) await sealed[sealed.length - BATCHES_IN_FLIGHT];
  };

  try {
    for (;;) {
      // With at least a maximal chunk in the window (or the end in it), nextCut always finds a cut.
      if (!eof && end - start < MAX_CHUNK) await fill();
      if (start === end) break;
      const length = chunker.nextCut(start, end, eof);
      batch.add(window.subarray(start, start + length));
      start += length;
      size += length;
      onProgress?.(size);
      if (batch.bytes >= BATCH_BYTES) await handOver();
    }
    if (!pool) return { content: await sealHere(repo, batch), size };
    if (batch.bytes > 0) await handOver();
    const results = await Promise.all(sealed);
    await pool.drain(); // throws the storage's own error when a pack could not be stored
    const failed = results.find((r) => r.error !== undefined);
    if (failed) throw new DriveseedError('IO', `the stream could not be stored: ${failed.error}`);
    return { content: results.flatMap((r) => r.content), size };
  } finally {
    await pool?.close();
  }
}

/** A batch sealed on this thread, as a stream shorter than a batch is. */
async function sealHere(repo: Repository, batch: ChunkBatch): Promise<Id[]> {
  const content: Id[] = [];
  let at = 0;
  for (const length of batch.lengths) {
    content.push(await repo.saveBlob('data', Buffer.from(batch.buffer, at, length)));
    at += length;
  }
  return content;
}

/** The snapshot's trees for one file at `parts`: directories made up on the way, as restic does for --stdin. */
async function saveStreamTree(repo: Repository, parts: string[], file: { size: number; content: Id[] }): Promise<Id> {
  let node: TreeNode = streamFileNode(parts.at(-1)!, file);
  for (let i = parts.length - 2; i >= 0; i--) {
    const subtree = await repo.saveBlob('tree', encodeTree({ nodes: [node] }));
    node = { ...madeUpMeta(parts[i], 0o755), type: 'dir', subtree };
  }
  return repo.saveBlob('tree', encodeTree({ nodes: [node] }));
}

/** A node nothing on disk stands behind: now, this process's owner (docs/format.md, "Trees"). */
export function madeUpMeta(name: string, mode: number): Pick<TreeNode, 'name' | 'mode' | 'mtimeNs' | 'uid' | 'gid'> {
  return { name, mode, mtimeNs: (BigInt(Date.now()) * 1_000_000n).toString(), uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** A stored stream's file node. */
export function streamFileNode(name: string, file: { size: number; content: Id[] }): TreeNode {
  return { ...madeUpMeta(name, 0o644), type: 'file', size: file.size, content: file.content };
}
