import { isDriveseedError } from '../errors.js';
import type { BlobInfo, BlobStore, ByteRange } from './blob-store.js';
import { OpaqueForwardingStore } from './forwarding.js';

/**
 * A repository whose new files go to one store (the upper: an offline delta's staging
 * directory) while it reads and lists the files of another as its own (the lower: the
 * vault). A backup into it deduplicates against everything the vault's index lists and
 * writes only what the vault lacks, so the upper ends up holding exactly the delta: new
 * packs, their index files and the snapshot. The lower is never written or deleted in.
 * Repository files are immutable, so a name in both stores is the same file: the upper's
 * is read. No capability is passed on: each would reach one of the two stores only.
 */
export class OverlayStore extends OpaqueForwardingStore {
  constructor(
    upper: BlobStore,
    private readonly lower: BlobStore,
  ) {
    super(upper);
  }

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    try {
      return await this.inner.get(name, range);
    } catch (e) {
      if (isDriveseedError(e, 'NOT_FOUND')) return this.lower.get(name, range);
      throw e;
    }
  }

  override async stat(name: string): Promise<BlobInfo> {
    try {
      return await this.inner.stat(name);
    } catch (e) {
      if (isDriveseedError(e, 'NOT_FOUND')) return this.lower.stat(name);
      throw e;
    }
  }

  override async exists(name: string): Promise<boolean> {
    return (await this.inner.exists(name)) || this.lower.exists(name);
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    const seen = new Set<string>();
    for await (const info of this.inner.list(prefix)) {
      seen.add(info.name);
      yield info;
    }
    for await (const info of this.lower.list(prefix)) if (!seen.has(info.name)) yield info;
  }
}
