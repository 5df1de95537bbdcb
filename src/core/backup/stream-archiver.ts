import { hostname } from 'node:os';
import { DriveseedError } from '../errors.js';
import { Chunker, gearTable, MAX_CHUNK } from '../repo/chunker.js';
import type { Id } from '../repo/ids.js';
import type { Repository } from '../repo/repository.js';
import { SNAPSHOT_VERSION, type Snapshot, type SnapshotSummary } from '../repo/snapshot.js';
import { encodeTree, isPathComponent, type TreeNode } from '../repo/tree.js';
import { currentUsername } from '../util/current-user.js';
import { findParent, type BackupResult } from './archiver.js';

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
 * file of the same bytes share every blob and successive dumps deduplicate. It is cut and
 * sealed on this thread as it arrives: the producer (pg_dump, a pipe) runs beside it on the
 * other core, and memory stays at one window however long the stream is. The snapshot is
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

/** Cuts the stream into chunks and stores each one the repository does not have yet. */
async function chunkStream(repo: Repository, data: AsyncIterable<Uint8Array>, onProgress?: (bytes: number) => void): Promise<{ content: Id[]; size: number }> {
  const chunker = new Chunker(gearTable(repo.key.chunkerSeed), STREAM_BUFFER_SIZE);
  const window = chunker.buffer;
  const content: Id[] = [];
  const input = data[Symbol.asyncIterator]();
  let leftover: Uint8Array | undefined;
  let start = 0;
  let end = 0;
  let eof = false;
  let size = 0;

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

  for (;;) {
    // With at least a maximal chunk in the window (or the end in it), nextCut always finds a cut.
    if (!eof && end - start < MAX_CHUNK) await fill();
    if (start === end) break;
    const length = chunker.nextCut(start, end, eof);
    // saveBlob hashes and seals the chunk before it first waits, so the window may move on after.
    content.push(await repo.saveBlob('data', window.subarray(start, start + length)));
    start += length;
    size += length;
    onProgress?.(size);
  }
  return { content, size };
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
