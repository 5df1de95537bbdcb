/*
 * Reads of many blobs turned into few ranged reads of their packs. Over a link with tens of
 * milliseconds of latency, a restore of many small files is bound by the number of requests,
 * not by bytes: blobs of one pack that lie close together are fetched with one request (the
 * gap between them is read and dropped), as restic's restorer does by pack.
 */

/** One blob to read: where it is in its pack. */
export interface BlobRead<T> {
  pack: string;
  offset: number;
  length: number;
  /** What the caller needs to place the blob once read. */
  target: T;
}

export interface PackRange<T> {
  pack: string;
  offset: number;
  length: number;
  blobs: BlobRead<T>[];
}

/** Bytes of unwanted data worth reading to save a request. */
export const MAX_GAP = 1024 * 1024;
/** A range stays at most this long, so memory stays bounded when whole packs are wanted. */
export const MAX_RANGE = 16 * 1024 * 1024;

export function coalesce<T>(reads: readonly BlobRead<T>[], maxGap = MAX_GAP, maxRange = MAX_RANGE): PackRange<T>[] {
  const byPack = new Map<string, BlobRead<T>[]>();
  for (const read of reads) {
    const list = byPack.get(read.pack);
    if (list) list.push(read);
    else byPack.set(read.pack, [read]);
  }
  const ranges: PackRange<T>[] = [];
  for (const [pack, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset);
    let current: PackRange<T> | undefined;
    for (const read of list) {
      const end = read.offset + read.length;
      if (current && read.offset <= current.offset + current.length + maxGap && end - current.offset <= maxRange) {
        current.length = Math.max(current.length, end - current.offset);
        current.blobs.push(read);
      } else {
        current = { pack, offset: read.offset, length: read.length, blobs: [read] };
        ranges.push(current);
      }
    }
  }
  return ranges;
}
