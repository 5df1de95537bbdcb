import { isDriveseedError } from '../errors.js';
import type { BlobData, BlobInfo, BlobStore, ByteRange } from './blob-store.js';

/**
 * A remote store read, where it can be, from a local copy of some of its files. Repository
 * files are immutable once written, so a file the copy holds is the remote's: while the seed
 * travels, the agent's backups read seed packs (the parent snapshot's trees) from staging
 * instead of the vault, which does not hold them yet. Everything else — writes, listings,
 * deletes — is the remote's alone.
 */
export class LocalCopyStore implements BlobStore {
  readonly location: string;

  constructor(
    private readonly remote: BlobStore,
    private readonly copy: BlobStore,
  ) {
    this.location = remote.location;
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    try {
      return await this.copy.get(name, range);
    } catch (e) {
      if (isDriveseedError(e, 'NOT_FOUND')) return this.remote.get(name, range);
      throw e;
    }
  }

  put(name: string, data: BlobData): Promise<void> {
    return this.remote.put(name, data);
  }

  async stat(name: string): Promise<BlobInfo> {
    return this.remote.stat(name);
  }

  exists(name: string): Promise<boolean> {
    return this.remote.exists(name);
  }

  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.remote.list(prefix);
  }

  delete(name: string): Promise<void> {
    return this.remote.delete(name);
  }
}
