import type { BlobData, BlobStore } from '../storage/blob-store.js';
import { packName } from './layout.js';
import { metadataCacheOf } from './metadata-cache.js';
import type { PackEntry } from './master-index.js';

/** Uploads in flight before writers wait: bounds memory at about (2 + this) packs. */
const MAX_PENDING_UPLOADS = 2;

/**
 * Stores finished packs while their writers go on filling the next ones, and keeps track of
 * the uploads in flight: the first failure is kept and thrown to the writer at its next pack
 * or at settle(), and a pack counts as stored only once `onStored` (the index writer's
 * checkpoint) is done with it.
 */
export class PackUploader {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly store: BlobStore,
    private readonly onStored: (pack: PackEntry) => Promise<void>,
  ) {}

  /** Starts storing a pack built on main, once fewer than MAX_PENDING_UPLOADS are in flight. */
  async upload(pack: PackEntry, parts: readonly Uint8Array[]): Promise<void> {
    while (this.inFlight.size >= MAX_PENDING_UPLOADS) await Promise.race(this.inFlight);
    this.throwFailure();
    this.track(this.put(pack, parts));
  }

  /**
   * Stores a pack built elsewhere (by a chunk worker, in its own buffer). Resolves once the
   * pack is stored, so the caller may reuse the buffer; rejects if that fails. settle() waits
   * for it too.
   */
  async uploadAndWait(pack: PackEntry, bytes: Uint8Array): Promise<void> {
    this.throwFailure();
    const stored = this.put(pack, bytes);
    this.track(stored);
    await stored;
  }

  /** Waits until every pack is stored; throws the first failure. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwFailure();
  }

  private async put(pack: PackEntry, data: BlobData): Promise<void> {
    await this.store.put(packName(pack.id), data);
    if (pack.blobs.every((b) => b.type === 'tree')) await metadataCacheOf(this.store)?.keepCopy(packName(pack.id), data);
    await this.onStored(pack);
  }

  private track(upload: Promise<void>): void {
    const tracked: Promise<void> = upload
      .catch((e) => {
        this.failure ??= e;
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure;
  }
}
