import { isDriveseedError } from '../errors.js';
import type { BlobStore, ByteRange } from './blob-store.js';
import { OpaqueForwardingStore } from './forwarding.js';

/**
 * A remote store read, where it can be, from a local copy of some of its files. Repository
 * files are immutable once written, so a file the copy holds is the remote's: while the seed
 * travels, the agent's backups read seed packs (the parent snapshot's trees) from staging
 * instead of the vault, which does not hold them yet. Everything else — writes, listings,
 * deletes — is the remote's alone. No capability is passed on: each would reach one of the
 * two stores only, and the remote's would miss the very files the copy is there for.
 */
export class LocalCopyStore extends OpaqueForwardingStore {
  constructor(
    remote: BlobStore,
    private readonly copy: BlobStore,
  ) {
    super(remote);
  }

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    try {
      return await this.copy.get(name, range);
    } catch (e) {
      if (isDriveseedError(e, 'NOT_FOUND')) return this.inner.get(name, range);
      throw e;
    }
  }
}
