/*
 * All-zero chunks: the holes of a sparse file (a VM disk image, a database's preallocated
 * space) read back as zeros, and the chunker cuts a long run of them into equal chunks of its
 * maximum size, so they deduplicate to one blob per length. A backup knows such a chunk's id
 * without hashing it. A restore writes no zero block, so a hole stays a hole (docs/format.md,
 * "Sparse files"): not only whole zero chunks, because content-defined chunks straddle the
 * edge of a hole, and a chunk with 1 MiB of data ran on into 3 MiB of the hole after it. Node has no SEEK_DATA/SEEK_HOLE, so holes are still read; reading a hole
 * costs the kernel a page of zeros, not a disk read.
 */

/** Compared against with memcmp (Buffer.equals), which stops at the first differing byte. */
const ZEROS = Buffer.alloc(4 * 1024 * 1024);

/** Whether every byte of `data` is zero: real data differs within a few bytes, so this costs it nothing. */
export function isAllZero(data: Uint8Array): boolean {
  if (data.length === 0 || data[0] !== 0 || data[data.length - 1] !== 0) return false;
  for (let at = 0; at < data.length; at += ZEROS.length) {
    const part = data.subarray(at, Math.min(data.length, at + ZEROS.length));
    if (!ZEROS.subarray(0, part.length).equals(part)) return false;
  }
  return true;
}

/** Ids of all-zero chunks by length: a sparse image has holes of one or two chunk lengths. */
export class ZeroChunkIds {
  private readonly ids = new Map<number, string>();

  constructor(private readonly idOf: (data: Buffer) => string) {}

  /** The id of `data` if it is all zero (hashed once per length), else undefined. */
  idIfZero(data: Buffer): string | undefined {
    if (!isAllZero(data)) return undefined;
    let id = this.ids.get(data.length);
    if (id === undefined) {
      id = this.idOf(data);
      if (this.ids.size < 64) this.ids.set(data.length, id); // bounded: holes cut at odd lengths are rare
    }
    return id;
  }
}

/** The unit of a hole: file systems allocate in blocks of 4 KiB (ext4, xfs, btrfs by default). */
export const HOLE_BLOCK = 4096;

/**
 * The parts of `data`, to be written at `fileOffset`, that are not all-zero blocks: [start,
 * end) pairs within data, blocks aligned to the file (not to data), as `cp --sparse=always`
 * finds them. Bytes left out read back as zero from a file created empty.
 */
export function nonZeroRuns(data: Uint8Array, fileOffset: number): [number, number][] {
  const runs: [number, number][] = [];
  let runStart = -1;
  let at = 0;
  while (at < data.length) {
    const end = Math.min(data.length, at + HOLE_BLOCK - ((fileOffset + at) % HOLE_BLOCK));
    const zero = data[at] === 0 && data[end - 1] === 0 && ZEROS.subarray(0, end - at).equals(data.subarray(at, end));
    if (!zero && runStart < 0) runStart = at;
    if (zero && runStart >= 0) {
      runs.push([runStart, at]);
      runStart = -1;
    }
    at = end;
  }
  if (runStart >= 0) runs.push([runStart, data.length]);
  return runs;
}
