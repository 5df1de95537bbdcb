import { createHash } from 'node:crypto';

/**
 * Content-defined chunking with FastCDC (Xia et al., 2016) and normalized chunking level 2.
 * Written by hand because no maintained npm package offers a keyed FastCDC over Buffers that
 * runs at memory speed; the loop below is the whole algorithm.
 *
 * Sizes (docs/format.md explains the choice): min 128 KiB, average 512 KiB, max 4 MiB.
 * Half of restic's 1 MiB average, so a small edit inside a large file re-stores about half as
 * many bytes; large enough that per-blob overhead (index entry, AEAD tag) stays below 0.1%.
 */
export const MIN_CHUNK = 128 * 1024;
export const AVG_CHUNK = 512 * 1024;
export const MAX_CHUNK = 4 * 1024 * 1024;

/*
 * The gear hash shifts left one bit per byte, so bit k depends on the last k+1 bytes only:
 * the masks take the high bits of the 32-bit hash. Before the average size a cut needs
 * 21 zero bits (harder), after it 17 (easier) — the "normalization" that narrows the spread
 * of chunk sizes around the average.
 */
const MASK_SMALL = (((1 << 21) - 1) << 11) | 0;
const MASK_LARGE = (((1 << 17) - 1) << 15) | 0;

export type GearTable = Int32Array;

/** A gear table derived from the repository's secret seed, so boundaries leak nothing. */
export function gearTable(seed: Uint8Array): GearTable {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i += 8) {
    const block = createHash('sha256').update(seed).update(Buffer.from([i])).digest();
    for (let j = 0; j < 8; j++) table[i + j] = block.readInt32LE(j * 4);
  }
  return table;
}

/**
 * Length of the next chunk in data[start, end). `atEof` says whether end is the end of the
 * stream: if not and no cut point was found, returns -1 so the caller can read more.
 */
export function nextCut(gear: GearTable, data: Uint8Array, start: number, end: number, atEof: boolean): number {
  const available = end - start;
  if (available <= MIN_CHUNK) return atEof ? available : -1;
  const limit = start + Math.min(available, MAX_CHUNK);
  const normal = start + Math.min(available, AVG_CHUNK);
  const first = scan(gear, data, start + MIN_CHUNK, normal, 0, MASK_SMALL);
  if (first >= 0) return first - start;
  const second = scan(gear, data, normal, limit, scanHash, MASK_LARGE);
  if (second >= 0) return second - start;
  if (limit - start === MAX_CHUNK || atEof) return limit - start;
  return -1;
}

/** The hash where the last scan stopped: a module variable, so the hot loop allocates nothing. */
let scanHash = 0;

/**
 * The hot loop: gear-hashes data[from, to) and returns the index just past the first byte
 * at which `hash & mask` is zero, or -1. Unrolled by four by hand because V8 does not
 * unroll, and that is ~2× faster than the plain loop on this machine.
 */
function scan(gear: GearTable, data: Uint8Array, from: number, to: number, hash: number, mask: number): number {
  let h = hash;
  let i = from;
  for (; i + 3 < to; i += 4) {
    h = ((h << 1) + gear[data[i]]) | 0;
    if ((h & mask) === 0) return i + 1;
    h = ((h << 1) + gear[data[i + 1]]) | 0;
    if ((h & mask) === 0) return i + 2;
    h = ((h << 1) + gear[data[i + 2]]) | 0;
    if ((h & mask) === 0) return i + 3;
    h = ((h << 1) + gear[data[i + 3]]) | 0;
    if ((h & mask) === 0) return i + 4;
  }
  for (; i < to; i++) {
    h = ((h << 1) + gear[data[i]]) | 0;
    if ((h & mask) === 0) return i + 1;
  }
  scanHash = h;
  return -1;
}

/** All chunk lengths of a complete buffer; the streaming reader in backup/ uses nextCut directly. */
export function chunkLengths(gear: GearTable, data: Uint8Array): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < data.length; ) {
    const len = nextCut(gear, data, pos, data.length, true);
    out.push(len);
    pos += len;
  }
  return out;
}
