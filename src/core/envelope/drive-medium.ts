import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DriveseedError } from '../errors.js';
import { HEADER_FILE, MANIFEST_FILE, PAYLOAD_DIR } from './envelope-format.js';
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
    this.end = journaled.reduce((at, p) => at + entryFootprint(p.sealedLength), entryFootprint(header.size));
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

/** The reading side of a drive, at the data centre. */
export interface DriveSource {
  readonly path: string;
  /** A small entry whole (the header, the manifest); undefined when it is not there. */
  read(name: string): Promise<Buffer | undefined>;
  locate(name: string): Promise<EntryLocation | undefined>;
}

export async function openDriveSource(path: string): Promise<DriveSource> {
  const info = await stat(path).catch(() => {
    throw new DriveseedError('NOT_FOUND', `${path}: volume not found (nothing there)`);
  });
  if (info.isDirectory()) return directorySource(path);
  return imageSource(path, info.size, await scanImage(path));
}

function directorySource(path: string): DriveSource {
  return {
    path,
    read: (name) => readFile(join(path, name)).catch(() => undefined),
    locate: async (name) => {
      const file = join(path, name);
      const info = await stat(file).catch(() => undefined);
      return info?.isFile() ? { file, offset: 0, available: info.size } : undefined;
    },
  };
}

function imageSource(path: string, size: number, entries: TarEntry[]): DriveSource {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const locate = async (name: string) => {
    const entry = byName.get(name);
    return entry ? { file: path, offset: entry.offset, available: Math.max(0, Math.min(entry.size, size - entry.offset)) } : undefined;
  };
  return {
    path,
    locate,
    read: async (name) => {
      const where = await locate(name);
      return where ? readRange(path, where.offset, where.available) : undefined;
    },
  };
}

/**
 * The entries of an image, read header by header. A damaged header ends the scan: the
 * entries after it count as missing, which the import reports file by file.
 */
async function scanImage(path: string): Promise<TarEntry[]> {
  const handle = await open(path, 'r');
  const entries: TarEntry[] = [];
  try {
    const block = Buffer.alloc(TAR_BLOCK);
    for (let at = 0; ;) {
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
