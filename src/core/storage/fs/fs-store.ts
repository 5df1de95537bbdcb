import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DriveseedError } from '../../errors.js';
import { Readable } from 'node:stream';
import {
  assertValidBlobName,
  assertValidBlobPrefix,
  existsByStat,
  type BlobData,
  type BlobInfo,
  type BlobReader,
  type BlobStore,
  type ByteRange,
  type LocalPathAccess,
  type LocalPaths,
  type ReadStreaming,
  type StreamingReads,
  type StreamingWrites,
  type WriteStreaming,
} from '../blob-store.js';

const TEMP_MARK = '.tmp-';

/** Reads of a streamed file: a 16 MiB pack range is 16 reads, and a download holds about two of them. */
const STREAM_CHUNK = 1024 * 1024;

/** A BlobStore in a local directory. Atomic puts: temp file, fsync, rename. Its blobs are files, so it has local paths. */
export class FsStore implements BlobStore, ReadStreaming, WriteStreaming, LocalPathAccess {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = resolve(root);
  }

  private path(name: string): string {
    assertValidBlobName(name);
    return join(this.location, name);
  }

  localPaths(): LocalPaths {
    return { localPath: (name) => this.path(name) };
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    const path = this.path(name);
    try {
      const handle = await open(path, 'r');
      try {
        const length = range ? range.length : (await handle.stat()).size;
        const buf = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(buf, done, length - done, (range?.offset ?? 0) + done);
          if (bytesRead === 0) throw new DriveseedError('BAD_RANGE', `${name}: range ${range?.offset}+${length} is past the end of the file`);
          done += bytesRead;
        }
        return buf;
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw mapError(e, name, this.location);
    }
  }

  readStreams(): StreamingReads {
    return { openRead: (name, range) => this.openRead(name, range) };
  }

  private async openRead(name: string, range?: ByteRange): Promise<BlobReader> {
    const path = this.path(name);
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'r');
      const info = await handle.stat();
      // A folder opens for reading too; it is no blob (reading it would fail mid-answer).
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      const size = info.size;
      const offset = range?.offset ?? 0;
      const length = range ? range.length : size;
      if (offset + length > size) throw new DriveseedError('BAD_RANGE', `${name}: range ${offset}+${length} is past the end of the file`);
      if (length === 0) {
        await handle.close();
        return { length, stream: Readable.from([]) };
      }
      // The stream closes the handle when it ends or is destroyed (a client gone mid-way).
      return { length, stream: handle.createReadStream({ start: offset, end: offset + length - 1, highWaterMark: STREAM_CHUNK }) };
    } catch (e) {
      await handle?.close().catch(() => undefined);
      throw mapError(e, name, this.location);
    }
  }

  writeStreams(): StreamingWrites {
    return { putStream: (name, source) => this.putStream(name, source) };
  }

  /** As `put`, from a stream: into a temp file, synced, renamed over the name only once the source has ended well. */
  private async putStream(name: string, source: Readable): Promise<void> {
    const path = this.path(name);
    const temp = `${path}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
    try {
      await makeDirs(dirname(path));
      const handle = await open(temp, 'w', 0o644);
      try {
        // One part at a time: the source is not read ahead of the disk, so a copy holds a part or two.
        for await (const part of source as AsyncIterable<Uint8Array>) await writeAll(handle, [part]);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (e) {
      source.destroy();
      await unlink(temp).catch(() => undefined);
      throw mapError(e, name, this.location, 'write');
    }
  }

  async put(name: string, data: BlobData): Promise<void> {
    const path = this.path(name);
    const temp = `${path}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
    try {
      await makeDirs(dirname(path));
      const handle = await open(temp, 'w', 0o644);
      try {
        await writeAll(handle, Array.isArray(data) ? (data as readonly Uint8Array[]) : [data as Uint8Array]);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw mapError(e, name, this.location, 'write');
    }
  }

  async stat(name: string): Promise<BlobInfo> {
    try {
      const st = await stat(this.path(name));
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      return { name, size: st.size };
    } catch (e) {
      throw mapError(e, name, this.location);
    }
  }

  exists(name: string): Promise<boolean> {
    return existsByStat(this, name);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    // The directory walked is worked out from the prefix: `../` would walk outside the root.
    assertValidBlobPrefix(prefix);
    // Walk only the directory the prefix points into; the rest of the prefix filters names.
    const slash = prefix.lastIndexOf('/');
    const dir = slash >= 0 ? prefix.slice(0, slash) : '';
    yield* this.walk(dir, prefix);
  }

  private async *walk(dir: string, prefix: string): AsyncIterable<BlobInfo> {
    let entries;
    try {
      entries = await readdir(join(this.location, dir), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw mapError(e, dir, this.location);
    }
    for (const entry of entries) {
      const name = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (name.startsWith(prefix) || prefix.startsWith(name + '/')) yield* this.walk(name, prefix);
      } else if (entry.isFile() && name.startsWith(prefix) && !entry.name.includes(TEMP_MARK)) {
        const st = await stat(join(this.location, name)).catch(() => undefined);
        if (st) yield { name, size: st.size };
      }
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await rm(this.path(name), { force: true });
    } catch (e) {
      // A folder (the path of other names) is no blob of this name: nothing to delete, and it stays.
      if (NOT_A_FILE.has((e as NodeJS.ErrnoException).code ?? '')) return;
      throw mapError(e, name, this.location);
    }
  }
}

/** writev until every byte is written: one syscall for a whole pack, no concatenation. */
async function writeAll(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  let pending = parts.filter((p) => p.length > 0);
  while (pending.length > 0) {
    // Linux takes at most 1024 buffers per writev.
    let { bytesWritten } = await handle.writev(pending.slice(0, 1024) as NodeJS.ArrayBufferView[]);
    const rest: Uint8Array[] = [];
    for (const part of pending) {
      if (bytesWritten >= part.length) bytesWritten -= part.length;
      else {
        rest.push(part.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/**
 * `mkdir -p`, one level at a time. Node's own `mkdir(…, { recursive: true })` never returns
 * under /proc (the kernel answers ENOENT for the parent that exists, and Node climbs and
 * retries forever: `init --repo /proc/x` spun a core for ten minutes); here each level is
 * tried at most twice, so a place that cannot hold directories fails at once, by name.
 */
async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    // A blob where a folder of the path would go: the caller's name collides (mapError says so).
    if (code === 'ENOTDIR') throw e;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw cannotCreate(dir, e);
  }
  await makeDirs(dirname(dir));
  try {
    await mkdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw e;
    if (code !== 'EEXIST') throw cannotCreate(dir, e);
  }
}

function cannotCreate(dir: string, e: unknown): DriveseedError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'this file system does not take new directories there'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : (e as Error).message;
  return new DriveseedError('IO', `cannot create directory ${dir}: ${why}`, { cause: e });
}

/**
 * Names are paths here, so `data` is a folder once `data/ab/…` exists, and `keys/k/x` cannot
 * be made beneath a blob `keys/k`: the disk's answers for those (a directory where a file was
 * asked for, a file in the middle of a path) mean "no such blob" to a reader and "the name
 * collides" to a writer, never an I/O fault (which the service answers with 500).
 */
const NOT_A_FILE = new Set(['EISDIR', 'ENOTDIR', 'ERR_FS_EISDIR']);
const TAKEN = new Set([...NOT_A_FILE, 'ENOTEMPTY', 'EEXIST']);

function mapError(e: unknown, name: string, location: string, op: 'read' | 'write' = 'read'): Error {
  if (e instanceof DriveseedError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || (op === 'read' && NOT_A_FILE.has(code ?? '')))
    return new DriveseedError('NOT_FOUND', `${name} not found in ${location}`, { cause: e });
  if (op === 'write' && TAKEN.has(code ?? ''))
    return new DriveseedError('CONFLICT', `${name} cannot be stored: it is a folder of other blobs, or passes through a blob (names are paths in this store)`, {
      field: 'name',
      cause: e,
    });
  if (code === 'ENOSPC')
    return new DriveseedError('IO', `disk full at ${location} while writing ${name}`, { hint: 'free space or use a larger disk', cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new DriveseedError('IO', `permission denied for ${name} in ${location}`, { cause: e });
  return new DriveseedError('IO', `${name} in ${location}: ${(e as Error).message}`, { cause: e });
}
