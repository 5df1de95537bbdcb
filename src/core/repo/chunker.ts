import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/*
 * Content-defined chunking with FastCDC (Xia et al., 2016) and normalized chunking level 2.
 * Written by hand because no maintained npm package offers a keyed FastCDC over Buffers that
 * runs at memory speed; nextCut and the wasm scan loop are the whole algorithm.
 */

/**
 * Chunk sizes (docs/format.md explains the choice): min 128 KiB, average 512 KiB, max 4 MiB.
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
    const block = createHash('sha256')
      .update(seed)
      .update(Buffer.from([i]))
      .digest();
    for (let j = 0; j < 8; j++) table[i + j] = block.readInt32LE(j * 4);
  }
  return table;
}

const GEAR_BYTES = 256 * 4;
const WASM_PAGE = 64 * 1024;

/*
 * The scan loop is WebAssembly (src/core/repo/gear-scan.wat, compiled at build time), not
 * JavaScript: V8 checks the bounds of both typed-array reads of every byte, and the same
 * loop in wasm ran 2–3× faster here (1.55–2.56 GB/s against 0.59–0.84 GB/s a core), which is
 * a tenth of a first backup's CPU time. Its cuts are the plain loop's, byte for byte
 * (chunker.test.ts checks that against a reference written in JavaScript).
 */
const scanModule = new WebAssembly.Module(readFileSync(new URL('./gear-scan.wasm', import.meta.url)));

interface ScanExports {
  scan(from: number, to: number, hash: number, mask: number): number;
  hash: WebAssembly.Global;
}

/**
 * Cuts data in `buffer`, a view of the scanner's own WebAssembly memory: whoever reads the
 * data reads it straight into that buffer, so nothing is copied for the scan.
 */
export class Chunker {
  readonly buffer: Buffer;
  private readonly exports: ScanExports;

  constructor(gear: GearTable, capacity: number) {
    // The memory never grows: growing would detach `buffer` and every chunk view of it.
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((GEAR_BYTES + capacity) / WASM_PAGE)) });
    this.exports = new WebAssembly.Instance(scanModule, { chunker: { memory } }).exports as unknown as ScanExports;
    new Int32Array(memory.buffer, 0, 256).set(gear);
    this.buffer = Buffer.from(memory.buffer, GEAR_BYTES, capacity);
  }

  /**
   * Length of the next chunk in buffer[start, end). `atEof` says whether end is the end of the
   * stream: if not and no cut point was found, returns -1 so the caller can read more.
   */
  nextCut(start: number, end: number, atEof: boolean): number {
    const available = end - start;
    if (available <= MIN_CHUNK) return atEof ? available : -1;
    const limit = start + Math.min(available, MAX_CHUNK);
    const normal = start + Math.min(available, AVG_CHUNK);
    const first = this.exports.scan(GEAR_BYTES + start + MIN_CHUNK, GEAR_BYTES + normal, 0, MASK_SMALL);
    if (first >= 0) return first - GEAR_BYTES - start;
    const second = this.exports.scan(GEAR_BYTES + normal, GEAR_BYTES + limit, this.exports.hash.value as number, MASK_LARGE);
    if (second >= 0) return second - GEAR_BYTES - start;
    if (limit - start === MAX_CHUNK || atEof) return limit - start;
    return -1;
  }
}

/** All chunk lengths of a complete buffer; the streaming reader in backup/ cuts in its Chunker's buffer. */
export function chunkLengths(gear: GearTable, data: Uint8Array): number[] {
  const chunker = new Chunker(gear, data.length);
  chunker.buffer.set(data);
  const out: number[] = [];
  for (let pos = 0; pos < data.length;) {
    const len = chunker.nextCut(pos, data.length, true);
    out.push(len);
    pos += len;
  }
  return out;
}
