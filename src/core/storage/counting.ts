import { blobDataLength, type BlobData, type SignedBlobUrls } from './blob-store.js';
import { ForwardingStore } from './forwarding.js';

/**
 * Counts the bytes of puts that succeeded: what a backup has really sent so far. Reads are not
 * counted, so streamed reads and local paths pass on; signed URLs do not, since a create URL
 * would send bytes the count never sees.
 */
export class CountingStore extends ForwardingStore {
  bytesPut = 0;

  override async put(name: string, data: BlobData): Promise<void> {
    await this.inner.put(name, data);
    this.bytesPut += blobDataLength(data);
  }

  override urlSigner(): SignedBlobUrls | undefined {
    return undefined;
  }
}
