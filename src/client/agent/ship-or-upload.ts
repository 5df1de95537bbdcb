import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { minimatch } from 'minimatch';
import { DriveseedError } from '../../core/errors.js';
import { Chunker, gearTable } from '../../core/repo/chunker.js';
import { encodePayload } from '../../core/repo/compression.js';
import { MAX_DRIVE_BYTES } from '../../core/envelope/drive-writer.js';

/**
 * "Ship or upload?": how many bytes the first full backup will store, from a
 * sample of the real data run through the engine's own chunker and zstd level, and how long
 * those bytes take over the link against on drives. Deduplication is counted inside the
 * sample only, so the estimate errs towards more bytes, never fewer.
 */
export interface EstimateOptions {
  paths: string[];
  excludes?: string[];
  /** The link's upload speed, bytes per second. */
  bandwidth: number;
  /** Door to door: courier, data-centre receipt and import, in days. */
  shippingDays?: number;
  /** How fast diskprep and the import write a drive, bytes per second (a USB hard disk: ~150 MB/s). */
  driveRate?: number;
  /** Bytes read for the sample. */
  sampleBytes?: number;
}

export interface SeedEstimate {
  files: number;
  bytes: number;
  sample: { files: number; bytes: number; stored: number };
  /** Stored bytes per byte of data, from the sample. */
  ratio: number;
  firstBackupBytes: number;
  upload: { seconds: number };
  ship: { seconds: number; drives: number };
  advice: 'ship' | 'upload';
}

const DAY = 86_400;
/** The largest piece of one file the sample reads: big files are sampled, not read whole. */
const SLICE = 16 * 1024 * 1024;

export async function estimateSeed(options: EstimateOptions): Promise<SeedEstimate> {
  const files = await listTree(
    options.paths.map((p) => resolve(p)),
    options.excludes ?? [],
  );
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (bytes === 0) throw new DriveseedError('USAGE', `nothing to estimate: ${options.paths.join(', ')} hold no data`);
  const sample = await measureSample(files, options.sampleBytes ?? 512 * 1024 * 1024);
  const ratio = sample.bytes > 0 ? sample.stored / sample.bytes : 1;
  const firstBackupBytes = Math.ceil(bytes * ratio);
  const driveRate = options.driveRate ?? 150e6;
  const shippingDays = options.shippingDays ?? 7;
  const drives = Math.max(1, Math.ceil(firstBackupBytes / MAX_DRIVE_BYTES));
  // diskprep writes the drives one after another; the data centre imports them the same way.
  const ship = { seconds: (2 * firstBackupBytes) / driveRate + shippingDays * DAY, drives };
  const upload = { seconds: firstBackupBytes / options.bandwidth };
  return { files: files.length, bytes, sample, ratio, firstBackupBytes, upload, ship, advice: ship.seconds < upload.seconds ? 'ship' : 'upload' };
}

export interface TreeFile {
  path: string;
  size: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
}

/** Every regular file below `roots` that no exclude pattern matches (links are not followed). */
export async function listTree(roots: string[], excludes: string[]): Promise<TreeFile[]> {
  const files: TreeFile[] = [];
  const excluded = (path: string) =>
    excludes.some((glob) => minimatch(path, glob, { dot: true }) || minimatch(path.slice(path.lastIndexOf('/') + 1), glob, { dot: true }));
  const visit = async (path: string): Promise<void> => {
    if (excluded(path)) return;
    const info = await lstat(path).catch(() => undefined);
    if (!info) return;
    if (info.isFile()) files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
    else if (info.isDirectory()) {
      const entries = await readdir(path).catch(() => [] as string[]);
      for (const entry of entries) await visit(join(path, entry));
    }
  };
  for (const root of roots) {
    if (!(await lstat(root).catch(() => undefined))) throw new DriveseedError('USAGE', `${root} is not there`);
    await visit(root);
  }
  return files;
}

/**
 * Picks places uniformly over all the tree's bytes (so a file is picked in proportion to its
 * size, and one huge file is sampled in several places), reads a slice there, cuts it with the
 * engine's chunker and compresses every chunk not seen before in the sample.
 */
async function measureSample(files: TreeFile[], budget: number): Promise<{ files: number; bytes: number; stored: number }> {
  // One chunker for the whole sample: slices are read straight into its buffer.
  const chunker = new Chunker(gearTable(randomBytes(32)), SLICE);
  const seen = new Set<string>();
  const picked = new Set<string>();
  const result = { files: 0, bytes: 0, stored: 0 };
  const ends: number[] = [];
  let total = 0;
  for (const f of files) ends.push((total += f.size));
  for (let draws = 0; result.bytes < budget && draws < MAX_DRAWS; draws++) {
    const at = Math.floor(Math.random() * total);
    const index = firstEndAbove(ends, at);
    const file = files[index];
    const offset = at - (ends[index] - file.size);
    const start = Math.max(0, Math.min(offset, file.size - SLICE));
    const key = `${index}:${Math.floor(start / SLICE)}`;
    if (picked.has(key)) continue;
    picked.add(key);
    const length = await readSlice(file.path, start, chunker.buffer.subarray(0, Math.min(SLICE, budget - result.bytes)));
    if (length === undefined) continue;
    result.files++;
    result.bytes += length;
    for (let from = 0; from < length;) {
      const chunk = chunker.buffer.subarray(from, (from += chunker.nextCut(from, length, true)));
      const id = createHash('sha256').update(chunk).digest('hex');
      if (seen.has(id)) continue;
      seen.add(id);
      result.stored += encodePayload(chunk).length;
    }
  }
  return result;
}

/** A tree of many tiny files fills the budget slowly: stop drawing after this many places. */
const MAX_DRAWS = 20_000;

function firstEndAbove(ends: number[], at: number): number {
  let low = 0;
  let high = ends.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (ends[mid] > at) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Reads a file from `start` into `into`; the bytes read, or undefined if it cannot be read. */
async function readSlice(path: string, start: number, into: Buffer): Promise<number | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { bytesRead } = await handle.read(into, 0, into.length, start);
    return bytesRead;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
