import { lstat, mkdir, open, readdir, realpath, rename, rm, stat, statfs, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DriveseedError, isDriveseedError } from '../errors.js';
import { DRIVE_OPEN_FLAGS, HEADER_FILE, MANIFEST_FILE, MAX_MANIFEST_FILES, PAYLOAD_DIR } from './envelope-format.js';
import { decodeHeader, encodeHeader, entryFootprint, paddedSize, TAR_BLOCK, type TarEntry } from './ustar.js';

/**
 * Where a drive envelope lives: a mounted drive (a directory) or an image file. An image
 * holds the same entries as the directory would, as one ustar archive in a fixed order
 * (header, payload files, manifest), so `tar tf` lists it and `tar xf` turns it back into
 * the directory layout (docs/drive-envelope.md).
 */
export type MediumKind = 'directory' | 'image';

/** A path that does not exist yet becomes a new image file only when it is named like one. */
export const IMAGE_SUFFIX = '.img';

export interface DriveInspection {
  kind: MediumKind;
  /** What is on it already; empty for a blank drive. */
  contents: string[];
  /** Free bytes of its file system, or the size of a pre-sized blank image. */
  capacity: number;
}

export async function inspectDrive(path: string): Promise<DriveInspection> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' && path.endsWith(IMAGE_SUFFIX)) return undefined;
    throw notThere(path, e.code);
  });
  if (!info) {
    const parent = dirname(path);
    const capacity = await freeBytes(parent).catch((e: NodeJS.ErrnoException) => {
      throw notThere(parent, e.code);
    });
    return { kind: 'image', contents: [], capacity };
  }
  if (info.isDirectory()) return { kind: 'directory', contents: await directoryContents(path), capacity: await freeBytes(path) };
  if (!info.isFile()) throw new DriveseedError('USAGE', `drive ${path} is neither a mounted directory nor an image file`);
  const contents = await imageContents(path, info.size);
  const preSizedBlank = contents.length === 0 && info.size > 0;
  return { kind: 'image', contents, capacity: preSizedBlank ? info.size : await freeBytes(dirname(path)) };
}

function notThere(path: string, code: string | undefined): DriveseedError {
  return new DriveseedError('USAGE', `drive ${path} is not there (${code})`, {
    hint: `mount it and give its directory, or give an image file (NAME${IMAGE_SUFFIX})`,
  });
}

async function freeBytes(path: string): Promise<number> {
  const fs = await statfs(path);
  return Number(fs.bavail) * Number(fs.bsize);
}

/** What is on a mounted drive besides the file system's own lost+found. */
async function directoryContents(path: string): Promise<string[]> {
  return (await readdir(path)).filter((e) => e !== 'lost+found');
}

/** A blank image is empty or starts with a zero block; anything else is somebody's data. */
async function imageContents(path: string, size: number): Promise<string[]> {
  if (size === 0) return [];
  const entries = await scanImage(path);
  if (entries.length > 0) return entries.map((e) => e.name);
  const first = await readRange(path, 0, Math.min(size, TAR_BLOCK));
  return first.every((b) => b === 0) ? [] : ['data that is not a driveseed drive'];
}

/** Empties a drive the user agreed to erase: the seed's "format the drive" step. */
export async function eraseDrive(path: string, kind: MediumKind): Promise<void> {
  if (kind === 'image') return truncate(path, 0);
  for (const entry of await directoryContents(path)) await rm(join(path, entry), { recursive: true, force: true });
}

/** Where one payload file goes: its own file, or a region of the image from `offset`. */
export interface PayloadPlace {
  file: string;
  offset?: number;
}

export interface JournaledPayload {
  storedAs: string;
  sealedLength: number;
}

/** The writing side of a drive. `place` is called in payload order; copies may then run in parallel. */
export interface DriveSink {
  /** Bytes a payload file of `sealedLength` takes on this medium. */
  footprint(sealedLength: number): number;
  start(headerJson: string): Promise<void>;
  /** Goes on after the payload files a journal lists (none for a new drive), clearing what a killed run left past them. */
  resume(journaled: JournaledPayload[]): Promise<void>;
  place(storedAs: string, sealedLength: number): Promise<PayloadPlace>;
  /** Where a journaled payload file already is (after `resume`): a file that failed its read-back is sealed again there. */
  placeOf(storedAs: string): PayloadPlace;
  finish(sealedManifest: Buffer): Promise<void>;
}

export function driveSink(path: string, kind: MediumKind): DriveSink {
  return kind === 'image' ? new ImageSink(path) : new DirectorySink(path);
}

class DirectorySink implements DriveSink {
  constructor(private readonly path: string) {}

  footprint(sealedLength: number): number {
    return sealedLength;
  }

  async start(headerJson: string): Promise<void> {
    await writeFile(join(this.path, HEADER_FILE), headerJson);
    await mkdir(join(this.path, PAYLOAD_DIR), { recursive: true });
  }

  /** Payload files no journal line lists were cut off by a kill: they only take room. */
  async resume(journaled: JournaledPayload[]): Promise<void> {
    const kept = new Set(journaled.map((p) => p.storedAs));
    const present = await readdir(join(this.path, PAYLOAD_DIR)).catch(() => [] as string[]);
    for (const name of present) if (!kept.has(`${PAYLOAD_DIR}/${name}`)) await rm(join(this.path, PAYLOAD_DIR, name), { force: true });
  }

  async place(storedAs: string): Promise<PayloadPlace> {
    return { file: join(this.path, storedAs) };
  }

  placeOf(storedAs: string): PayloadPlace {
    return { file: join(this.path, storedAs) };
  }

  async finish(sealedManifest: Buffer): Promise<void> {
    const temp = join(this.path, `${MANIFEST_FILE}.tmp`);
    await writeFile(temp, sealedManifest);
    await rename(temp, join(this.path, MANIFEST_FILE));
  }
}

/**
 * An image is written front to back: each payload file's place (tar header, then room for
 * its data) is fixed before its copy starts, so several copies fill their regions at once.
 * The journal lists files in payload order, so a resumed run knows exactly where the image
 * ends and overwrites whatever a killed run left past that point.
 */
class ImageSink implements DriveSink {
  private end = 0;
  private readonly journaled = new Map<string, number>();

  constructor(private readonly path: string) {}

  footprint(sealedLength: number): number {
    return entryFootprint(sealedLength);
  }

  async start(headerJson: string): Promise<void> {
    const data = Buffer.from(headerJson, 'utf8');
    // 'r+' keeps a pre-sized image's length (its capacity); a new image is created.
    const handle = await open(this.path, 'r+').catch(() => open(this.path, 'w'));
    try {
      await handle.write(entryBytes(HEADER_FILE, data));
      await handle.write(Buffer.alloc(2 * TAR_BLOCK), 0, 2 * TAR_BLOCK, entryFootprint(data.length));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** What a killed run wrote past the last journaled entry is simply written over. */
  async resume(journaled: JournaledPayload[]): Promise<void> {
    const header = decodeHeader(await readRange(this.path, 0, TAR_BLOCK));
    if (!header || header === 'end' || header.name !== HEADER_FILE)
      throw new DriveseedError('CORRUPT', `image ${this.path} no longer starts with its drive header`);
    this.end = entryFootprint(header.size);
    for (const p of journaled) {
      this.journaled.set(p.storedAs, this.end + TAR_BLOCK);
      this.end += entryFootprint(p.sealedLength);
    }
  }

  placeOf(storedAs: string): PayloadPlace {
    const offset = this.journaled.get(storedAs);
    if (offset === undefined) throw new DriveseedError('CORRUPT', `image ${this.path} has no journaled ${storedAs}`);
    return { file: this.path, offset };
  }

  async place(storedAs: string, sealedLength: number): Promise<PayloadPlace> {
    const at = this.end;
    this.end += entryFootprint(sealedLength);
    await writeAt(this.path, encodeHeader(storedAs, sealedLength, new Date()), at);
    return { file: this.path, offset: at + TAR_BLOCK };
  }

  async finish(sealedManifest: Buffer): Promise<void> {
    const handle = await open(this.path, 'r+');
    try {
      await handle.write(Buffer.concat([entryBytes(MANIFEST_FILE, sealedManifest), Buffer.alloc(2 * TAR_BLOCK)]), 0, undefined, this.end);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function entryBytes(name: string, data: Buffer): Buffer {
  const padded = Buffer.alloc(paddedSize(data.length));
  data.copy(padded);
  return Buffer.concat([encodeHeader(name, data.length, new Date()), padded]);
}

async function writeAt(path: string, data: Buffer, position: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(data, 0, data.length, position);
  } finally {
    await handle.close();
  }
}

async function readRange(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Where one entry's bytes can be read; `available` is less than its length when the drive was cut short. */
export interface EntryLocation {
  file: string;
  offset: number;
  available: number;
}

/**
 * The reading side of a drive, at the data centre. A drive is hostile: entries are named
 * relative to it and never reach outside it, only regular files are opened (never a FIFO,
 * a device or a symlink, and never with an open that can block), and what is read whole is
 * capped. Messages name the drive by `label` and entries by their names on it, never by host
 * paths, because they go into the customer's drive log.
 */
export interface DriveSource {
  readonly path: string;
  /** A small entry whole (the header, the manifest); undefined when it is not there, CORRUPT when larger than `maxBytes` or not a regular file. */
  read(name: string, maxBytes: number): Promise<Buffer | undefined>;
  /** Undefined when the entry is not there; CORRUPT when it is there but not a regular file. */
  locate(name: string): Promise<EntryLocation | undefined>;
}

export async function openDriveSource(given: string, label = given): Promise<DriveSource> {
  // The operator's path may be a link (to a mount, to an image); nothing below it is followed.
  const path = await realpath(given).catch(() => {
    throw new DriveseedError('NOT_FOUND', `${label}: volume not found (nothing there)`);
  });
  const info = await stat(path);
  if (info.isDirectory()) return directorySource(path, label);
  if (!info.isFile()) throw new DriveseedError('CORRUPT', `${label}: volume not found (neither a mounted directory nor an image file)`);
  return imageSource(path, label, info.size, await scanImage(path, label));
}

function directorySource(root: string, label: string): DriveSource {
  return {
    path: root,
    read: async (name, maxBytes) => {
      try {
        const file = await entryPath(root, name);
        const handle = file && (await openRegular(file, name));
        if (!handle) return undefined;
        try {
          const { size } = await handle.stat();
          if (size > maxBytes) throw new DriveseedError('CORRUPT', `${name} is ${size} bytes, more than the ${maxBytes} it may have`);
          return await readWhole(handle, size);
        } finally {
          await handle.close();
        }
      } catch (e) {
        throw isDriveseedError(e) ? new DriveseedError(e.code, `${label}: ${e.message}`) : e;
      }
    },
    locate: async (name) => {
      const file = await entryPath(root, name);
      const info = file && (await lstat(file).catch(() => undefined));
      if (!info) return undefined;
      if (!info.isFile()) throw notRegular(name);
      return { file, offset: 0, available: info.size };
    },
  };
}

/**
 * The host path of an entry, below the drive's root only: each folder on the way must be a
 * real directory (a symlink `payload` would send every read elsewhere). Undefined when a
 * folder on the way is missing.
 */
async function entryPath(root: string, name: string): Promise<string | undefined> {
  const parts = name.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0')))
    throw new DriveseedError('CORRUPT', `${JSON.stringify(name)} is not a name on a drive`);
  for (let depth = 1; depth < parts.length; depth++) {
    const folder = parts.slice(0, depth).join('/');
    const info = await lstat(join(root, folder)).catch(() => undefined);
    if (!info) return undefined;
    if (!info.isDirectory()) throw notRegular(folder, 'a directory');
  }
  return join(root, ...parts);
}

/** Opens a regular file of the drive without blocking or following a link; undefined when it is not there. */
async function openRegular(file: string, name: string): Promise<FileHandle | undefined> {
  const before = await lstat(file).catch(() => undefined);
  if (!before) return undefined;
  // Checked before opening too: opening a device can have effects of its own (a tape rewinds).
  if (!before.isFile()) throw notRegular(name);
  const handle = await open(file, DRIVE_OPEN_FLAGS).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e.code === 'ELOOP' ? notRegular(name) : new DriveseedError('IO', `${name} cannot be opened (${e.code})`);
  });
  if (handle && !(await handle.stat()).isFile()) {
    await handle.close();
    throw notRegular(name);
  }
  return handle;
}

/** Names the entry by its place on the drive only: the message goes into the customer's log. */
function notRegular(name: string, what = 'a regular file'): DriveseedError {
  return new DriveseedError('CORRUPT', `${name} is not ${what} on the drive (the import reads nothing else)`);
}

async function readWhole(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.alloc(size);
  let done = 0;
  while (done < size) {
    const { bytesRead } = await handle.read(buffer, done, size - done, done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

function imageSource(path: string, label: string, size: number, entries: TarEntry[]): DriveSource {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const locate = async (name: string) => {
    const entry = byName.get(name);
    return entry ? { file: path, offset: entry.offset, available: Math.max(0, Math.min(entry.size, size - entry.offset)) } : undefined;
  };
  return {
    path,
    locate,
    read: async (name, maxBytes) => {
      const where = await locate(name);
      if (where && where.available > maxBytes)
        throw new DriveseedError('CORRUPT', `${label}: ${name} is ${where.available} bytes, more than the ${maxBytes} it may have`);
      return where ? readRange(path, where.offset, where.available) : undefined;
    },
  };
}

/**
 * The entries of an image, read header by header. A damaged header ends the scan: the
 * entries after it count as missing, which the import reports file by file.
 */
async function scanImage(path: string, label = path): Promise<TarEntry[]> {
  const handle = await open(path, DRIVE_OPEN_FLAGS);
  const entries: TarEntry[] = [];
  try {
    if (!(await handle.stat()).isFile()) throw new DriveseedError('CORRUPT', `${label}: volume not found (not an image file)`);
    const block = Buffer.alloc(TAR_BLOCK);
    for (let at = 0; ;) {
      // The manifest's files, the header and the manifest itself: an image listing more is not one diskprep wrote.
      if (entries.length > MAX_MANIFEST_FILES + 2) throw new DriveseedError('CORRUPT', `${label}: the image holds more than ${MAX_MANIFEST_FILES + 2} entries`);
      const { bytesRead } = await handle.read(block, 0, TAR_BLOCK, at);
      const header = decodeHeader(block.subarray(0, bytesRead));
      if (!header || header === 'end') return entries;
      entries.push({ name: header.name, offset: at + TAR_BLOCK, size: header.size });
      at += entryFootprint(header.size);
    }
  } finally {
    await handle.close();
  }
}
