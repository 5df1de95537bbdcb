import {
  localPathsOf,
  readStreamsOf,
  urlSignerOf,
  type BlobData,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type LocalPathAccess,
  type LocalPaths,
  type ReadStreaming,
  type SignedBlobUrls,
  type StreamingReads,
  type StreamingWrites,
  type UrlSigning,
  type WriteStreaming,
} from './blob-store.js';

/**
 * A store in front of another, passing on every operation and every capability unless the
 * subclass overrides it: a wrapper overrides only what it changes (retries, limits, counts,
 * names), and a capability of the store underneath (signing URLs, streaming reads, local
 * paths) stays reachable through any number of wrappers. A wrapper that changes reads or
 * writes must also decide, for each capability, whether to pass it on, map it, or withhold it
 * (return undefined) so that it cannot bypass what the wrapper is for.
 */
export abstract class ForwardingStore implements BlobStore, UrlSigning, ReadStreaming, WriteStreaming, LocalPathAccess {
  constructor(
    protected readonly inner: BlobStore,
    readonly location: string = inner.location,
  ) {}

  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(name, range);
  }

  put(name: string, data: BlobData): Promise<void> {
    return this.inner.put(name, data);
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

  urlSigner(): SignedBlobUrls | undefined {
    return urlSignerOf(this.inner);
  }

  readStreams(): StreamingReads | undefined {
    return readStreamsOf(this.inner);
  }

  localPaths(): LocalPaths | undefined {
    return localPathsOf(this.inner);
  }

  /**
   * Withheld unless a wrapper passes it on, unlike the capabilities above: it came after the
   * wrappers, and a write that goes around one (its retries, its limit, its count, its faults,
   * the agent's direct transfer) is one it never saw.
   */
  writeStreams(): StreamingWrites | undefined {
    return undefined;
  }
}

/**
 * A wrapper that forwards the six operations and withholds every capability: for one that
 * must see every byte pass through it, or whose inner store's capabilities would not be its own.
 */
export abstract class OpaqueForwardingStore extends ForwardingStore {
  override urlSigner(): undefined {
    return undefined;
  }

  override readStreams(): undefined {
    return undefined;
  }

  override localPaths(): undefined {
    return undefined;
  }
}
