import type { BlobStore, ByteRange, LocalPaths } from '../core/storage/blob-store.js';
import { ForwardingStore } from '../core/storage/forwarding.js';

/**
 * For tests: a wrapper that passes everything on and notes each ranged read through it, so
 * a test can tell a reader that went through the store (ranged reads of packs or staged
 * files) from one that opened the files itself by their local paths. With `localPaths: false`
 * it withholds them, which shows the same reader's other way.
 */
export class RangedReadLog extends ForwardingStore {
  readonly rangedReads: string[] = [];

  constructor(
    inner: BlobStore,
    private readonly options: { localPaths: boolean } = { localPaths: true },
  ) {
    super(inner);
  }

  override get(name: string, range?: ByteRange): Promise<Buffer> {
    if (range) this.rangedReads.push(name);
    return super.get(name, range);
  }

  override localPaths(): LocalPaths | undefined {
    return this.options.localPaths ? super.localPaths() : undefined;
  }
}
