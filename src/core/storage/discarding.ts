import { blobDataLength, type BlobData, type SignedBlobUrls } from './blob-store.js';
import { ForwardingStore } from './forwarding.js';

/**
 * Reads pass through; writes and deletes are counted and dropped: what `backup --dry-run`
 * writes through, so it runs the whole backup — walk, read, chunk, dedup against the index —
 * and reports what it would add while the repository stays byte for byte as it was.
 *
 * A file "written" here is not read back (the dry run's writer never reads what it wrote, and
 * keeping the bytes would hold a whole backup in memory): a later get of it is NOT_FOUND from
 * the store underneath. Signed URLs are withheld, since a create URL would write for real.
 */
export class DiscardingStore extends ForwardingStore {
  bytesDiscarded = 0;
  filesDiscarded = 0;

  override put(_name: string, data: BlobData): Promise<void> {
    this.bytesDiscarded += blobDataLength(data);
    this.filesDiscarded++;
    return Promise.resolve();
  }

  override delete(): Promise<void> {
    return Promise.resolve();
  }

  override urlSigner(): SignedBlobUrls | undefined {
    return undefined;
  }
}
