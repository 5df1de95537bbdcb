import type { BlobData, BlobInfo, BlobStore, ByteRange } from './blob-store.js';
import { blobDataLength } from './blob-store.js';

/** Counts the bytes of puts that succeeded: what a backup has really sent so far. */
export class CountingStore implements BlobStore {
  readonly location: string;
  bytesPut = 0;

  constructor(private readonly inner: BlobStore) {
    this.location = inner.location;
  }

  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(name, range);
  }

  async put(name: string, data: BlobData): Promise<void> {
    await this.inner.put(name, data);
    this.bytesPut += blobDataLength(data);
  }

  stat(name: string): Promise<BlobInfo> {
    return this.inner.stat(name);
  }

  exists(name: string): Promise<boolean> {
    return this.inner.exists(name);
  }

  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix);
  }

  delete(name: string): Promise<void> {
    return this.inner.delete(name);
  }
}
