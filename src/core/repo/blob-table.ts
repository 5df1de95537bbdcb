import type { Id } from './ids.js';
import { hexToWords, ID_WORDS } from './id-words.js';

/*
 * The blob records of the compact index (docs/format.md, "The index in memory"): 46 bytes a
 * blob, no object per blob. Most records sit in one table sorted by id and found through a
 * directory of buckets on the ids' leading bits; blobs added since the last sort wait in an
 * overflow, which the sorted table absorbs in batches.
 */

/** Words of a record's location: pack number (top bit: tree blob), offset, sealed length, plaintext length. */
export const LOCATION_WORDS = 4;
export const TREE_BIT = 0x8000_0000;
/** A sorted record keeps only the low half of the id's first word: the bucket gives the high half. */
const MIN_BUCKET_BITS = 16;
const MAX_BUCKET_BITS = 24;
/** About this many records a bucket, so a lookup's binary search takes a few steps. */
const RECORDS_PER_BUCKET_LOG2 = 4;
/** Overflow records are kept in blocks of this many, so growing never copies. */
const BLOCK_RECORDS = 1 << 16;
/**
 * The sorted table absorbs the overflow once it holds a 32nd of the sorted records (or a
 * block): each record is copied about 32 times over a repository's growth, and the overflow's
 * lookup map stays under 4 bytes a blob.
 */
const OVERFLOW_SHARE = 32;

/** Records sorted by id, in columns sized exactly. */
class SortedRecords {
  readonly shift: number;

  constructor(
    readonly bits: number,
    /** Bucket b holds records directory[b] … directory[b + 1] − 1. */
    readonly directory: Uint32Array,
    readonly low: Uint16Array,
    /** Id words 1 … 7, seven a record. */
    readonly rest: Uint32Array,
    readonly locations: Uint32Array,
  ) {
    this.shift = 32 - bits;
  }

  get count(): number {
    return this.low.length;
  }

  /** The first record with the id `key`, or −1. */
  find(key: Uint32Array): number {
    const bucket = key[0] >>> this.shift;
    let lo = this.directory[bucket];
    const end = this.directory[bucket + 1];
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(mid, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo < end && this.compare(lo, key) === 0 ? lo : -1;
  }

  /** Record i's id against `key`, both in one bucket. */
  private compare(i: number, key: Uint32Array): number {
    const low = this.low[i] - (key[0] & 0xffff);
    if (low !== 0) return low;
    const at = i * 7;
    for (let w = 1; w < ID_WORDS; w++) {
      const a = this.rest[at + w - 1];
      const b = key[w];
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  }

  /** Writes record i's id words into `to` (record i is in `bucket`). */
  idWords(i: number, bucket: number, to: Uint32Array): void {
    to[0] = (((bucket >>> (this.bits - MIN_BUCKET_BITS)) << 16) | this.low[i]) >>> 0;
    for (let w = 1; w < ID_WORDS; w++) to[w] = this.rest[i * 7 + w - 1];
  }

  /** The bucket that holds record i. */
  bucketOf(i: number): number {
    let lo = 0;
    let hi = this.directory.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (this.directory[mid] <= i) lo = mid;
      else hi = mid;
    }
    return lo;
  }
}

const EMPTY = new SortedRecords(MIN_BUCKET_BITS, new Uint32Array((1 << MIN_BUCKET_BITS) + 1), new Uint16Array(0), new Uint32Array(0), new Uint32Array(0));

/** Records in the order they came, with all eight id words, in blocks. */
class RecordBlocks {
  readonly ids: Uint32Array[] = [];
  readonly locations: Uint32Array[] = [];
  count = 0;
  private idBlock = new Uint32Array(0);
  private locationBlock = new Uint32Array(0);
  private slot = BLOCK_RECORDS;

  append(id: Uint32Array, at: number, pack: number, offset: number, length: number, rawLength: number): number {
    const to = this.next() * ID_WORDS;
    for (let w = 0; w < ID_WORDS; w++) this.idBlock[to + w] = id[at + w];
    return this.locate(pack, offset, length, rawLength);
  }

  /** The same with the id as 32 bytes at `bytes[at]`. */
  appendBytes(bytes: Uint8Array, at: number, pack: number, offset: number, length: number, rawLength: number): number {
    const to = this.next() * ID_WORDS;
    for (let w = 0, b = at; w < ID_WORDS; w++, b += 4)
      this.idBlock[to + w] = ((bytes[b] << 24) | (bytes[b + 1] << 16) | (bytes[b + 2] << 8) | bytes[b + 3]) >>> 0;
    return this.locate(pack, offset, length, rawLength);
  }

  location(i: number, word: number): number {
    return this.locations[Math.floor(i / BLOCK_RECORDS)][(i % BLOCK_RECORDS) * LOCATION_WORDS + word];
  }

  /** The slot of the record being appended. */
  private next(): number {
    if (this.slot === BLOCK_RECORDS) {
      this.idBlock = new Uint32Array(BLOCK_RECORDS * ID_WORDS);
      this.locationBlock = new Uint32Array(BLOCK_RECORDS * LOCATION_WORDS);
      this.ids.push(this.idBlock);
      this.locations.push(this.locationBlock);
      this.slot = 0;
    }
    return this.slot;
  }

  private locate(pack: number, offset: number, length: number, rawLength: number): number {
    const to = this.slot++ * LOCATION_WORDS;
    this.locationBlock[to] = pack;
    this.locationBlock[to + 1] = offset;
    this.locationBlock[to + 2] = length;
    this.locationBlock[to + 3] = rawLength;
    return this.count++;
  }
}

/**
 * Every blob record; a record is named by a number ("ref"): sorted records first, then the
 * overflow's. A ref is good until the next add.
 */
export class BlobTable {
  private sorted = EMPTY;
  private overflow = new RecordBlocks();
  /** The overflow's records by hex id, for lookups before they are sorted; bulk adds skip it. */
  private overflowIds = new Map<Id, number>();
  /** Overflow records added in bulk, not in overflowIds: a lookup sorts them in first. */
  private unmapped = 0;
  private readonly key = new Uint32Array(ID_WORDS);

  get count(): number {
    return this.sorted.count + this.overflow.count;
  }

  /**
   * Records a blob, findable at once. `pack` is the pack's number, with TREE_BIT for a tree
   * blob; offset and lengths are its bytes in the pack.
   */
  add(hex: Id, id: Uint32Array, pack: number, offset: number, length: number, rawLength: number): void {
    const i = this.overflow.append(id, 0, pack, offset, length, rawLength);
    if (!this.overflowIds.has(hex)) this.overflowIds.set(hex, i);
    if (this.overflow.count >= Math.max(BLOCK_RECORDS, this.sorted.count / OVERFLOW_SHARE)) this.settle();
  }

  /** Records a blob of a bulk load (its id as 32 bytes at `bytes[at]`): findable after the next settle(), which a lookup makes. */
  addBulk(bytes: Uint8Array, at: number, pack: number, offset: number, length: number, rawLength: number): void {
    this.overflow.appendBytes(bytes, at, pack, offset, length, rawLength);
    this.unmapped++;
  }

  /** The first record of `id`, or −1. */
  find(id: Id): number {
    if (this.unmapped > 0) this.settle();
    hexToWords(id, this.key, 0);
    const i = this.sorted.find(this.key);
    if (i >= 0) return i;
    const j = this.overflowIds.get(id);
    return j === undefined ? -1 : this.sorted.count + j;
  }

  location(ref: number, word: number): number {
    const n = this.sorted.count;
    return ref < n ? this.sorted.locations[ref * LOCATION_WORDS + word] : this.overflow.location(ref - n, word);
  }

  /** Sorts the overflow into the sorted table. */
  settle(): void {
    if (this.overflow.count === 0) return;
    this.sorted = sortRecords(this.sorted, this.overflow);
    this.overflow = new RecordBlocks();
    this.overflowIds = new Map();
    this.unmapped = 0;
  }

  /**
   * Visits every record in sorted order (settles first): its ref, bucket and location words.
   * The ref's id is then had from idWords.
   */
  forEach(visit: (ref: number, bucket: number) => void): void {
    this.settle();
    const { directory } = this.sorted;
    for (let b = 0; b + 1 < directory.length; b++) for (let i = directory[b]; i < directory[b + 1]; i++) visit(i, b);
  }

  /** The id words of a sorted record (refs from forEach or find after settle). */
  idWords(ref: number, to: Uint32Array): void {
    this.settle();
    this.sorted.idWords(ref, this.sorted.bucketOf(ref), to);
  }
}

function bucketBitsFor(count: number): number {
  const bits = Math.ceil(Math.log2(count + 1)) - RECORDS_PER_BUCKET_LOG2;
  return Math.min(MAX_BUCKET_BITS, Math.max(MIN_BUCKET_BITS, bits));
}

/**
 * One sorted table of both: a counting sort on the bucket bits (ids are uniform hashes, so
 * buckets fill evenly), then an insertion sort inside each bucket. Stable, so of two records
 * of one id (a blob stored twice) the older stays first, and lookups keep finding it. Loops
 * written out: this runs once a record on every load.
 */
function sortRecords(old: SortedRecords, added: RecordBlocks): SortedRecords {
  const total = old.count + added.count;
  const bits = bucketBitsFor(total);
  const shift = 32 - bits;
  const directory = new Uint32Array((1 << bits) + 1);
  const oldShift = old.bits - MIN_BUCKET_BITS;
  for (let b = 0; b + 1 < old.directory.length; b++) {
    const high = (b >>> oldShift) << 16;
    for (let i = old.directory[b]; i < old.directory[b + 1]; i++) directory[((high | old.low[i]) >>> shift) + 1]++;
  }
  for (let i = 0; i < added.count; i++) directory[(added.ids[Math.floor(i / BLOCK_RECORDS)][(i % BLOCK_RECORDS) * ID_WORDS] >>> shift) + 1]++;
  for (let b = 1; b < directory.length; b++) directory[b] += directory[b - 1];

  const low = new Uint16Array(total);
  const rest = new Uint32Array(total * 7);
  const locations = new Uint32Array(total * LOCATION_WORDS);
  const next = directory.slice(0, directory.length - 1);
  for (let b = 0; b + 1 < old.directory.length; b++) {
    const high = (b >>> oldShift) << 16;
    for (let i = old.directory[b]; i < old.directory[b + 1]; i++) {
      const to = next[(high | old.low[i]) >>> shift]++;
      low[to] = old.low[i];
      for (let w = 0; w < 7; w++) rest[to * 7 + w] = old.rest[i * 7 + w];
      for (let w = 0; w < LOCATION_WORDS; w++) locations[to * LOCATION_WORDS + w] = old.locations[i * LOCATION_WORDS + w];
    }
  }
  for (let block = 0; block < added.ids.length; block++) {
    const ids = added.ids[block];
    const from = added.locations[block];
    const end = Math.min(BLOCK_RECORDS, added.count - block * BLOCK_RECORDS);
    for (let slot = 0; slot < end; slot++) {
      const first = ids[slot * ID_WORDS];
      const to = next[first >>> shift]++;
      low[to] = first & 0xffff;
      for (let w = 0; w < 7; w++) rest[to * 7 + w] = ids[slot * ID_WORDS + w + 1];
      for (let w = 0; w < LOCATION_WORDS; w++) locations[to * LOCATION_WORDS + w] = from[slot * LOCATION_WORDS + w];
    }
  }
  const sorted = new SortedRecords(bits, directory, low, rest, locations);
  for (let b = 0; b + 1 < directory.length; b++) sortBucket(sorted, directory[b], directory[b + 1]);
  return sorted;
}

/** Insertion sort of records start … end − 1 (one bucket: a few dozen records). */
function sortBucket(t: SortedRecords, start: number, end: number): void {
  const { low, rest, locations } = t;
  const held = new Uint32Array(7 + LOCATION_WORDS);
  for (let i = start + 1; i < end; i++) {
    if (!less(t, i, i - 1)) continue;
    const heldLow = low[i];
    for (let w = 0; w < 7; w++) held[w] = rest[i * 7 + w];
    for (let w = 0; w < LOCATION_WORDS; w++) held[7 + w] = locations[i * LOCATION_WORDS + w];
    let j = i;
    while (j > start && heldBefore(heldLow, held, t, j - 1)) {
      low[j] = low[j - 1];
      for (let w = 0; w < 7; w++) rest[j * 7 + w] = rest[(j - 1) * 7 + w];
      for (let w = 0; w < LOCATION_WORDS; w++) locations[j * LOCATION_WORDS + w] = locations[(j - 1) * LOCATION_WORDS + w];
      j--;
    }
    low[j] = heldLow;
    for (let w = 0; w < 7; w++) rest[j * 7 + w] = held[w];
    for (let w = 0; w < LOCATION_WORDS; w++) locations[j * LOCATION_WORDS + w] = held[7 + w];
  }
}

function less(t: SortedRecords, i: number, j: number): boolean {
  if (t.low[i] !== t.low[j]) return t.low[i] < t.low[j];
  for (let w = 0; w < 7; w++) {
    const a = t.rest[i * 7 + w];
    const b = t.rest[j * 7 + w];
    if (a !== b) return a < b;
  }
  return false;
}

/** Whether the held id (low, words 1 … 7) sorts strictly before record j's. */
function heldBefore(low: number, held: Uint32Array, t: SortedRecords, j: number): boolean {
  if (low !== t.low[j]) return low < t.low[j];
  for (let w = 0; w < 7; w++) {
    const other = t.rest[j * 7 + w];
    if (held[w] !== other) return held[w] < other;
  }
  return false;
}
