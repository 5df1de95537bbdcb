import { DriveseedError } from '../../errors.js';
import { assertValidBlobName, assertValidBlobPrefix, blobDataBuffer, type BlobData, type BlobInfo, type BlobStore, type ByteRange } from '../blob-store.js';

/** A BlobStore in a Map, for tests and caches. Copies in and out so callers cannot alias stored bytes. */
export class MemoryStore implements BlobStore {
  readonly location = 'memory:';
  private readonly files = new Map<string, Buffer>();

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    const data = this.find(name);
    if (!range) return Buffer.from(data);
    if (range.offset + range.length > data.length) {
      throw new DriveseedError('BAD_RANGE', `${name}: range ${range.offset}+${range.length} is past the end of the file`);
    }
    return Buffer.from(data.subarray(range.offset, range.offset + range.length));
  }

  async put(name: string, data: BlobData): Promise<void> {
    assertValidBlobName(name);
    this.files.set(name, Buffer.from(blobDataBuffer(data)));
  }

  async stat(name: string): Promise<BlobInfo> {
    return { name, size: this.find(name).length };
  }

  async exists(name: string): Promise<boolean> {
    assertValidBlobName(name);
    return this.files.has(name);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    // Harmless here, refused anyway: every store answers the same prefix the same way.
    assertValidBlobPrefix(prefix);
    for (const [name, data] of [...this.files]) if (name.startsWith(prefix)) yield { name, size: data.length };
  }

  async delete(name: string): Promise<void> {
    assertValidBlobName(name);
    this.files.delete(name);
  }

  private find(name: string): Buffer {
    assertValidBlobName(name);
    const data = this.files.get(name);
    if (!data) throw new DriveseedError('NOT_FOUND', `${name} not found in memory store`);
    return data;
  }
}
