import { open, type FileHandle } from 'node:fs/promises';
import type { Repository } from '../repo/repository.js';
import type { TreeNode } from '../repo/tree.js';
import { packName } from '../repo/layout.js';
import { takeBatch } from './batches.js';
import { coalesce, type BlobRead } from './pack-ranges.js';
import type { RestorePool } from './restore-pool.js';
import { CREATE_FILE_FLAGS } from './restore-protocol.js';
import { mapLimited } from '../util/semaphore.js';

/** Files restored together: their blobs are read by pack, in few ranged requests. */
const FILES_PER_BATCH = 256;
const BATCH_BYTES = 64 * 1024 * 1024;
/** Batches at once: one being fetched while the one before it is still decoding. */
const BATCHES_IN_FLIGHT = 2;
/** Ranged reads at once per batch: enough to fill a link's latency, bounded memory (× 16 MiB). */
const RANGES_IN_FLIGHT = 4;

interface QueuedFile {
  target: string;
  node: TreeNode;
  size: number;
  resolve: (bytes: number) => void;
  reject: (e: Error) => void;
}

interface BlobPlace {
  file: number;
  at: number;
  id: string;
}

async function extendTo(handle: FileHandle, end: number): Promise<void> {
  if ((await handle.stat()).size < end) await handle.truncate(end);
}

/**
 * Restores files whose packs are in a remote store (the vault, Azure). Files queue up while
 * earlier batches are in flight; a batch opens its files, reads all their blobs grouped by
 * pack (pack-ranges.ts) and has the workers decode and write each blob at its offset.
 */
export class RemoteFiles {
  private readonly pending: QueuedFile[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly repo: Repository,
    private readonly pool: RestorePool,
  ) {}

  /** Writes the file's content; resolves to its bytes. The caller sets its metadata. */
  restore(target: string, node: TreeNode): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ target, node, size: node.size ?? 0, resolve, reject });
      this.schedule();
    });
  }

  /** Waits a turn of the event loop, so the files a directory listing queued go together. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches();
    });
  }

  private startBatches(): void {
    while (this.inFlight < BATCHES_IN_FLIGHT && this.pending.length > 0) {
      const batch = takeBatch(this.pending, FILES_PER_BATCH, BATCH_BYTES);
      this.inFlight++;
      // A fault outside a file's own reads and writes (a bug, say) fails the batch's files, never the process.
      void this.restoreBatch(batch)
        .catch((e: Error) => batch.forEach((f) => f.reject(e)))
        .finally(() => {
          this.inFlight--;
          this.startBatches();
        });
    }
  }

  private async restoreBatch(files: QueuedFile[]): Promise<void> {
    const errors: (string | undefined)[] = files.map(() => undefined);
    const bytes = files.map(() => 0);
    const handles = await Promise.all(
      files.map((f, i) =>
        open(f.target, CREATE_FILE_FLAGS, 0o600).catch((e: Error) => {
          errors[i] = e.message;
          return undefined;
        }),
      ),
    );
    const reads = this.blobReads(files, handles, errors);
    await mapLimited(coalesce(reads), RANGES_IN_FLIGHT, async (range) => {
      let data: Buffer;
      try {
        data = await this.repo.store.get(packName(range.pack), { offset: range.offset, length: range.length });
      } catch (e) {
        for (const b of range.blobs) errors[b.target.file] ??= (e as Error).message;
        return;
      }
      await Promise.all(
        range.blobs.map(async ({ offset, length, target: { file, at, id } }) => {
          if (errors[file] !== undefined) return;
          const sealed = data.subarray(offset - range.offset, offset - range.offset + length);
          try {
            // Awaited first: `bytes[file] += await …` reads bytes[file] before the wait, so the
            // blobs of one file written at once counted only the last one.
            // The bytes may move to the worker only when no other place of this range needs them.
            const written = await this.pool.write(handles[file]!.fd, at, id, sealed, range.blobs.length === 1);
            bytes[file] += written;
          } catch (e) {
            errors[file] ??= (e as Error).message;
          }
        }),
      );
    });
    // A file whose last blobs were holes (not written by the workers) still ends where its data ends.
    await Promise.all(
      handles.map(async (h, i) => {
        if (!h || errors[i] !== undefined) return;
        await extendTo(h, bytes[i]).catch((e: Error) => (errors[i] = e.message));
      }),
    );
    await Promise.all(handles.map((h) => h?.close()));
    files.forEach((f, i) => (errors[i] === undefined ? f.resolve(bytes[i]) : f.reject(new Error(errors[i]))));
  }

  private blobReads(files: QueuedFile[], handles: (FileHandle | undefined)[], errors: (string | undefined)[]): BlobRead<BlobPlace>[] {
    const reads: BlobRead<BlobPlace>[] = [];
    files.forEach((f, file) => {
      if (!handles[file]) return;
      try {
        reads.push(...this.fileReads(f.node, file));
      } catch (e) {
        errors[file] = (e as Error).message;
      }
    });
    return reads;
  }

  /** The file's blobs, each at its offset in the file. */
  private fileReads(node: TreeNode, file: number): BlobRead<BlobPlace>[] {
    let at = 0;
    return (node.content ?? []).map((id) => {
      const place = this.repo.locate('data', id);
      const read = { pack: place.pack, offset: place.offset, length: place.length, target: { file, at, id } };
      at += place.rawLength;
      return read;
    });
  }
}
