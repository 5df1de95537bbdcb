import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { blobDataBuffer, type BlobData, type BlobInfo, type BlobStore, type ByteRange } from '../storage/blob-store.js';
import { OpaqueForwardingStore } from '../storage/forwarding.js';
import { contentMatchesId } from './ids.js';
import { DATA_DIR, expectedContentHash, INDEX_DIR, SNAPSHOTS_DIR } from './layout.js';

/** Where the cache keeps its files, and how many bytes it may hold. */
export interface MetadataCacheOptions {
  /** One directory per repository (named by its config's id), so no repository sees another's files. */
  directory: string;
  maxBytes: number;
}

/** The folders whose files every backup reads whole and lists: index and snapshot files. */
const LISTED_DIRS = [INDEX_DIR, SNAPSHOTS_DIR];
/**
 * Tree packs are cached when their reader or writer says so (keepCopy): a backup walks its
 * parent's trees, a restore its snapshot's. They are not listed per backup,
 * so a pack prune removed stays until it is the least recently used: harmless, as nothing
 * reads a pack the index does not name.
 */
const CACHED_DIRS = [...LISTED_DIRS, DATA_DIR];
const TEMP_PREFIX = '.tmp-';
/** A temp file this old was left by a killed writer, not one still writing. */
const STALE_TEMP_MS = 10 * 60 * 1000;

/**
 * A local copy of a remote repository's index and snapshot files, so that a backup over a
 * thin link downloads only those it has not seen. Never trusted: every file is named by the
 * hash of its bytes, and a cached file that does not hash to its name is dropped and fetched
 * again. Tree packs are kept too, when their reader or writer asks for it. Listings always ask the remote store (the cache never decides what exists), and a
 * listing evicts the cached files it no longer names; files this agent writes go into the
 * cache as they are uploaded. Writes are atomic (temp file, rename), so a killed agent
 * leaves each file whole or absent; the least recently used files go when the cache is
 * full. Capabilities are withheld: a streamed or signed read would bypass the cache.
 */
export class MetadataCacheStore extends OpaqueForwardingStore {
  private readonly directory: string;
  private readonly maxBytes: number;
  /** Bytes the cache holds, learned by one scan of its directory on first write. */
  private held: Promise<number> | undefined;

  constructor(inner: BlobStore, options: MetadataCacheOptions) {
    super(inner);
    this.directory = options.directory;
    this.maxBytes = options.maxBytes;
  }

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    if (range || !isCached(name)) return this.inner.get(name, range);
    const local = await this.readVerified(name);
    if (local) return local;
    const bytes = await this.inner.get(name);
    // A pack is kept only when its reader says it holds trees (keepCopy): check --read-data and
    // prune read data packs whole too, and those would fill the cache with the repository.
    if (isListed(name)) await this.keep(name, bytes);
    return bytes;
  }

  /**
   * The agent's own index and snapshot files are kept as they go up. Packs are kept only when
   * the writer says they hold trees (keepCopy), as the store cannot tell them from data packs:
   * the next backup walks these trees, and would otherwise download what it has just sent.
   */
  override async put(name: string, data: BlobData): Promise<void> {
    await this.inner.put(name, data);
    if (isListed(name)) await this.keep(name, blobDataBuffer(data));
  }

  /** Keeps a copy of a file just stored or read whole through this cache (a tree pack). */
  async keepCopy(name: string, data: BlobData): Promise<void> {
    if (isCached(name)) await this.keep(name, blobDataBuffer(data));
  }

  override async delete(name: string): Promise<void> {
    await this.inner.delete(name);
    if (isCached(name)) await this.drop(name);
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    const listed: BlobInfo[] = [];
    for await (const info of this.inner.list(prefix)) {
      listed.push(info);
      yield info;
    }
    const dir = LISTED_DIRS.find((d) => d === prefix);
    if (dir) await this.evictUnlisted(dir, new Set(listed.map((info) => info.name)));
  }

  /** The cached copy if it hashes to its name; a damaged or foreign one is dropped. */
  private async readVerified(name: string): Promise<Buffer | undefined> {
    const path = this.pathOf(name);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      return undefined;
    }
    if (!contentMatchesId(bytes, expectedContentHash(name)!)) {
      await this.drop(name);
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined); // the modification time orders eviction
    return bytes;
  }

  /**
   * Stores a verified file atomically: a reader (or a killed writer) never sees a part of it.
   * The cache only saves downloads: a local disk that refuses the write costs a download
   * next time, never the backup.
   */
  private async keep(name: string, bytes: Buffer): Promise<void> {
    if (bytes.length > this.maxBytes || !contentMatchesId(bytes, expectedContentHash(name)!)) return;
    const path = this.pathOf(name);
    const temp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temp, bytes);
      await rename(temp, path);
    } catch {
      await unlink(temp).catch(() => undefined);
      return;
    }
    this.held = this.heldBytes().then((n) => n + bytes.length);
    if ((await this.held) > this.maxBytes) await this.evictLeastRecentlyUsed();
  }

  private async drop(name: string): Promise<void> {
    const path = this.pathOf(name);
    const size = await stat(path).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) return;
    await unlink(path).catch(() => undefined);
    if (this.held) this.held = this.held.then((n) => n - size);
  }

  private async evictUnlisted(dir: string, listed: Set<string>): Promise<void> {
    for (const file of await this.filesIn(dir)) if (!listed.has(file.name)) await this.drop(file.name);
  }

  /**
   * Drops the least recently used files until the cache holds at most `bytes`: for a bound
   * known only once a run is done (the agent's, a share of the data it protected).
   */
  async trimTo(bytes: number): Promise<void> {
    if ((await this.heldBytes()) > bytes) await this.evictLeastRecentlyUsed(bytes);
  }

  /** Drops the files read or written longest ago until the cache is within `bound` again. */
  private async evictLeastRecentlyUsed(bound = this.maxBytes): Promise<void> {
    const files = (await Promise.all(CACHED_DIRS.map((dir) => this.filesIn(dir)))).flat().sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = files.reduce((n, f) => n + f.size, 0);
    for (const file of files) {
      if (total <= bound) break;
      await unlink(this.pathOf(file.name)).catch(() => undefined);
      total -= file.size;
    }
    this.held = Promise.resolve(total);
  }

  private heldBytes(): Promise<number> {
    this.held ??= Promise.all(CACHED_DIRS.map((dir) => this.filesIn(dir))).then((dirs) => dirs.flat().reduce((n, f) => n + f.size, 0));
    return this.held;
  }

  /** The cached files of one folder; temp files a killed writer left long ago are removed on the way. */
  private async filesIn(dir: string): Promise<{ name: string; size: number; mtimeMs: number }[]> {
    const entries = await readdir(this.pathOf(dir), { recursive: true }).catch(() => [] as string[]);
    const files: { name: string; size: number; mtimeMs: number }[] = [];
    for (const entry of entries) {
      const path = join(this.pathOf(dir), entry);
      const s = await stat(path).catch(() => undefined);
      if (!s?.isFile()) continue;
      if (!basename(entry).startsWith(TEMP_PREFIX)) files.push({ name: dir + entry.split(sep).join('/'), size: s.size, mtimeMs: s.mtimeMs });
      else if (Date.now() - s.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
    }
    return files;
  }

  private pathOf(name: string): string {
    return join(this.directory, name);
  }
}

/** The metadata cache a repository reads through, if it does. */
export function metadataCacheOf(store: BlobStore): MetadataCacheStore | undefined {
  return store instanceof MetadataCacheStore ? store : undefined;
}

function isCached(name: string): boolean {
  return CACHED_DIRS.some((dir) => name.startsWith(dir)) && expectedContentHash(name) !== undefined;
}

function isListed(name: string): boolean {
  return LISTED_DIRS.some((dir) => name.startsWith(dir)) && expectedContentHash(name) !== undefined;
}
