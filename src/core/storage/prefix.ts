import {
  assertValidBlobName,
  assertValidBlobPrefix,
  type BlobData,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type LocalPaths,
  type SignedBlobUrls,
  type StreamingReads,
  type StreamingWrites,
} from './blob-store.js';
import { writeStreamsOf } from './blob-store.js';
import { ForwardingStore } from './forwarding.js';

/**
 * A folder of another store seen as a store of its own: each vault repository is one. Every
 * capability is passed on with its names mapped into the folder, here and never by the
 * caller, so a signed URL, a stream or a local path reaches nothing outside it.
 */
export class PrefixStore extends ForwardingStore {
  private readonly prefix: string;

  constructor(inner: BlobStore, prefix: string) {
    const folder = asFolder(prefix);
    super(inner, `${inner.location}/${folder.slice(0, -1)}`);
    this.prefix = folder;
  }

  private full(name: string): string {
    assertValidBlobName(name);
    return this.prefix + name;
  }

  override urlSigner(): SignedBlobUrls | undefined {
    const inner = super.urlSigner();
    if (!inner) return undefined;
    return { signedUrl: async (name, access, expiresOn) => inner.signedUrl(this.full(name), access, expiresOn) };
  }

  override readStreams(): StreamingReads | undefined {
    const inner = super.readStreams();
    if (!inner) return undefined;
    return { openRead: async (name, range) => inner.openRead(this.full(name), range) };
  }

  override writeStreams(): StreamingWrites | undefined {
    const inner = writeStreamsOf(this.inner);
    if (!inner) return undefined;
    return { putStream: async (name, source) => inner.putStream(this.full(name), source) };
  }

  override localPaths(): LocalPaths | undefined {
    const inner = super.localPaths();
    if (!inner) return undefined;
    return { localPath: (name) => inner.localPath(this.full(name)) };
  }

  // async throughout: a bad name is a rejected promise, as from every store, never a throw.
  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(this.full(name), range);
  }

  override async put(name: string, data: BlobData): Promise<void> {
    return this.inner.put(this.full(name), data);
  }

  override async stat(name: string): Promise<BlobInfo> {
    return { name, size: (await this.inner.stat(this.full(name))).size };
  }

  override async exists(name: string): Promise<boolean> {
    return this.inner.exists(this.full(name));
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    // Checked here, not only below: the store under it would name the folder in its refusal.
    assertValidBlobPrefix(prefix);
    for await (const info of this.inner.list(this.prefix + prefix)) yield { name: info.name.slice(this.prefix.length), size: info.size };
  }

  override async delete(name: string): Promise<void> {
    return this.inner.delete(this.full(name));
  }
}

/** "vaults/v1" or "vaults/v1/" → "vaults/v1/", after checking it names a folder inside the store. */
function asFolder(prefix: string): string {
  assertValidBlobName(prefix.replace(/\/$/, ''));
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}
