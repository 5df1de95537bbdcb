import type { Readable } from 'node:stream';
import { DriveseedError } from '../errors.js';

/** A file as a listing or `stat` names it. */
export interface BlobInfo {
  name: string;
  size: number;
}

export interface ByteRange {
  offset: number;
  /** Number of bytes; the range must lie within the file (else a DriveseedError BAD_RANGE). */
  length: number;
}

/** A file's bytes, whole or as parts written back to back (packs are written from their blobs without a copy). */
export type BlobData = Uint8Array | readonly Uint8Array[];

export function blobDataLength(data: BlobData): number {
  return Array.isArray(data) ? data.reduce((n: number, part: Uint8Array) => n + part.length, 0) : (data as Uint8Array).length;
}

/** One contiguous buffer, for backends that need one; copies only when given parts. */
export function blobDataBuffer(data: BlobData): Buffer {
  if (!Array.isArray(data)) {
    const one = data as Uint8Array;
    return Buffer.from(one.buffer, one.byteOffset, one.length);
  }
  return Buffer.concat(data as readonly Uint8Array[]);
}

/**
 * The one storage interface every layer above talks to. A repository (and later a drive
 * envelope, a storage account container, a vault) is a set of immutable named files in a
 * BlobStore; the store knows nothing about what the bytes mean.
 *
 * Every backend must guarantee:
 * - `put` is atomic: a reader sees either no file or the whole file, never a prefix, even if
 *   the writer is killed half-way (fs: write to a temp name, fsync, rename).
 * - read-after-write: once `put` resolves, `get`, `stat` and `list` see the file.
 * - `put` of an existing name replaces it whole (repository files are content-addressed, so
 *   in practice a replace writes the same bytes).
 * - names are `/`-separated relative paths of [A-Za-z0-9._-] segments; no `..`, no leading `/`.
 * - a listing prefix is the start of such a name, checked as strictly: `list('../')` is refused.
 * - `get` of a missing file and `stat` of a missing file throw a DriveseedError NOT_FOUND.
 * - `delete` of a missing file is not an error (deletes are idempotent so prune can resume).
 *
 * Some backends can do more than these six operations: sign a URL for one blob, stream a read
 * or a write, name the local file a blob is kept in. Those are optional capabilities (below),
 * asked for with `urlSignerOf`, `readStreamsOf`, `writeStreamsOf` and `localPathsOf`, never
 * with `instanceof`: a wrapper (ForwardingStore) passes each one on from the store under it,
 * maps it or withholds it, so the question reaches the backend through any number of layers.
 */
export interface BlobStore {
  /** A human-readable location, for messages ("/srv/repo", "azure://container"). */
  readonly location: string;
  get(name: string, range?: ByteRange): Promise<Buffer>;
  put(name: string, data: BlobData): Promise<void>;
  stat(name: string): Promise<BlobInfo>;
  exists(name: string): Promise<boolean>;
  /** All files whose name starts with `prefix` (a name prefix, never a path: assertValidBlobPrefix), in no particular order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  delete(name: string): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Rejects names a backend could map outside its root or that differ between backends. */
export function assertValidBlobName(name: string): void {
  const segments = name.split('/');
  if (name.length === 0 || segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new DriveseedError('USAGE', `invalid blob name: ${JSON.stringify(name)}`, { field: 'name' });
  }
}

/** What may follow the last `/` of a prefix: the start of a segment, possibly empty. */
const PARTIAL_SEGMENT = /^[A-Za-z0-9._-]*$/;

/**
 * Rejects a listing prefix that no valid blob name starts with. A prefix is a name prefix,
 * never a path: the segments before its last `/` are whole segments of the name grammar, and
 * what follows is the start of one. So `../`, `/etc`, `a//` and `a/./` are refused, which a
 * store that walks directories (fs) would otherwise resolve outside its root.
 */
export function assertValidBlobPrefix(prefix: string): void {
  const segments = prefix.split('/');
  const partial = segments.pop()!;
  if (!PARTIAL_SEGMENT.test(partial) || segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new DriveseedError('USAGE', `invalid blob prefix ${JSON.stringify(prefix)}: a prefix is the start of a blob name, never a path`, {
      field: 'prefix',
      hint: 'names are segments of A-Z a-z 0-9 . _ - between single slashes, without . or .. segments',
    });
  }
}

export async function listAll(store: BlobStore, prefix: string): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of store.list(prefix)) out.push(info);
  return out;
}

/** `exists` for backends whose stat is the cheapest probe: NOT_FOUND means no. */
export async function existsByStat(store: Pick<BlobStore, 'stat'>, name: string): Promise<boolean> {
  try {
    await store.stat(name);
    return true;
  } catch (e) {
    if (e instanceof DriveseedError && e.code === 'NOT_FOUND') return false;
    throw e;
  }
}

/**
 * What a signed URL lets its holder do with one blob: `read` it, or `create` it (write it
 * once; never replace, delete or list). Nothing wider is ever handed out.
 */
export type BlobAccess = 'read' | 'create';

/**
 * A way to let a client reach one blob directly, without the store's own credentials: a URL
 * signed for that blob alone, with one kind of access, until `expiresOn`. Azure Blob Storage
 * has one (a service SAS, when the store holds the account key); a local directory has none.
 */
export interface SignedBlobUrls {
  signedUrl(name: string, access: BlobAccess, expiresOn: Date): Promise<string>;
}

/** Optional on a BlobStore; undefined when the store cannot sign, or a wrapper withholds it. */
export interface UrlSigning {
  urlSigner(): SignedBlobUrls | undefined;
}

export function urlSignerOf(store: BlobStore): SignedBlobUrls | undefined {
  return (store as Partial<UrlSigning>).urlSigner?.();
}

/** A file, or a range of it, opened for reading: its length is known before the first byte. */
export interface BlobReader {
  length: number;
  stream: Readable;
}

/**
 * Reading a file as a stream, never whole in memory: a server that passes files on (the
 * service's blob API) holds a few buffers per download, however large the file and however
 * slow the client. A missing file (NOT_FOUND) and a range past its end are refused before the
 * first byte, as `get` refuses them.
 */
export interface StreamingReads {
  openRead(name: string, range?: ByteRange): Promise<BlobReader>;
}

/** Optional on a BlobStore; undefined when the store reads whole files only, or a wrapper withholds it. */
export interface ReadStreaming {
  readStreams(): StreamingReads | undefined;
}

export function readStreamsOf(store: BlobStore): StreamingReads | undefined {
  return (store as Partial<ReadStreaming>).readStreams?.();
}

/**
 * Writing a file from a stream, never whole in memory, with `put`'s guarantees: a reader sees
 * no file or the whole file. A source that fails (a check on the way that refuses the bytes,
 * say) leaves no file and rejects with the source's error.
 */
export interface StreamingWrites {
  putStream(name: string, source: Readable): Promise<void>;
}

/** Optional on a BlobStore; undefined when the store writes whole files only, or a wrapper withholds it. */
export interface WriteStreaming {
  writeStreams(): StreamingWrites | undefined;
}

export function writeStreamsOf(store: BlobStore): StreamingWrites | undefined {
  return (store as Partial<WriteStreaming>).writeStreams?.();
}

/**
 * The file on this machine's disk that holds a blob, for readers that open it themselves: a
 * worker thread reading packs for a restore, or sealing staged files onto a drive, costs the
 * main thread nothing per byte. For reading only: writes go through `put`, which keeps them
 * atomic. The path is worked out, not checked: a missing blob is a missing file.
 */
export interface LocalPaths {
  localPath(name: string): string;
}

/** Optional on a BlobStore; undefined when its blobs are not files on this machine, or a wrapper withholds it. */
export interface LocalPathAccess {
  localPaths(): LocalPaths | undefined;
}

export function localPathsOf(store: BlobStore): LocalPaths | undefined {
  return (store as Partial<LocalPathAccess>).localPaths?.();
}
