import { assertValidBlobName, readStreamsOf, urlSignerOf, type BlobData, type BlobInfo, type BlobStore, type ByteRange, type ReadStreaming, type SignedBlobUrls, type StreamingReads, type UrlSigning } from './blob-store.js';

/** A folder of another store seen as a store of its own: each vault repository is one. */
export class PrefixStore implements BlobStore, UrlSigning, ReadStreaming {
  readonly location: string;

  constructor(
    private readonly inner: BlobStore,
    private readonly prefix: string,
  ) {
    assertValidBlobName(prefix.replace(/\/$/, ''));
    this.prefix = prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `${inner.location}/${this.prefix.slice(0, -1)}`;
  }

  private full(name: string): string {
    assertValidBlobName(name);
    return this.prefix + name;
  }

  /** Signs for names inside the folder only: the prefix is added here, never by the caller. */
  urlSigner(): SignedBlobUrls | undefined {
    const inner = urlSignerOf(this.inner);
    if (!inner) return undefined;
    return { signedUrl: async (name, access, expiresOn) => inner.signedUrl(this.full(name), access, expiresOn) };
  }

  readStreams(): StreamingReads | undefined {
    const inner = readStreamsOf(this.inner);
    if (!inner) return undefined;
    return { openRead: async (name, range) => inner.openRead(this.full(name), range) };
  }

  // async throughout: a bad name is a rejected promise, as from every store, never a throw.
  async get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(this.full(name), range);
  }

  async put(name: string, data: BlobData): Promise<void> {
    return this.inner.put(this.full(name), data);
  }

  async stat(name: string): Promise<BlobInfo> {
    return { name, size: (await this.inner.stat(this.full(name))).size };
  }

  async exists(name: string): Promise<boolean> {
    return this.inner.exists(this.full(name));
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    for await (const info of this.inner.list(this.prefix + prefix)) yield { name: info.name.slice(this.prefix.length), size: info.size };
  }

  async delete(name: string): Promise<void> {
    return this.inner.delete(this.full(name));
  }
}
