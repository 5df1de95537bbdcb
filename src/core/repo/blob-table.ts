import type { Id } from './ids.js';
import { hexToWords, ID_WORDS } from './id-words.js';
import { RECORD_LENGTH as RUN_RECORD, RECORD_TREE_BIT } from './index-file.js';

/*
 * The blob records of the compact index (docs/format.md, "The index in memory"): 46 bytes a
 * blob, no object per blob. Most records sit in one table sorted by id and found through a
 * directory of buckets on the ids' leading bits. Index files come as runs sorted already and
 * are merged in; blobs a writer adds wait in an overflow, which the sorted table absorbs in
 * batches.
 */

/** Words of a record's location: pack number (top bit: tree blob), offset, sealed length, plaintext length. */
export const LOCATION_WORDS = 4;
/** The same bit as in an index file's records, so a run's pack word keeps it as it is. */
export const TREE_BIT = RECORD_TREE_BIT;
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

/**
 * Records sorted by id, in columns that may have room for more (`capacity`): the overflow is
 * merged into that room in place, so a first backup's table is not copied whole at every batch.
 */
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
    readonly count = low.length,
  ) {
    this.shift = 32 - bits;
  }

  get capacity(): number {
    return this.low.length;
  }

  /** The full first id word of record i, which is in `bucket`. */
  word0(i: number, bucket: number): number {
    return (((bucket >>> (this.bits - MIN_BUCKET_BITS)) << 16) | this.low[i]) >>> 0;
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
    to[0] = this.word0(i, bucket);
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
  /** Runs of sorted records from index files, merged in at the next lookup or settle(). */
  private runs: SortedRun[] = [];
  private runRecords = 0;
  private readonly key = new Uint32Array(ID_WORDS);

  get count(): number {
    return this.sorted.count + this.overflow.count + this.runRecords;
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

  /**
   * Takes an index file's records (sorted by id) in bulk: they are merged in at the next
   * lookup or settle(), all files in one pass.
   */
  addRun(run: SortedRun): void {
    let kept = 0;
    for (let i = 0; i < run.count; i++) if (run.packs[runPackIndex(run, i)] >= 0) kept++;
    this.runs.push(run);
    this.runRecords += kept;
  }

  /** The first record of `id`, or −1. */
  find(id: Id): number {
    if (this.runs.length > 0) this.settle();
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

  /** Sorts the overflow and merges the runs into the sorted table. */
  settle(): void {
    if (this.runs.length > 0 && this.sorted.count === 0 && this.overflow.count === 0) this.sorted = mergeRuns(this.runs, this.runRecords);
    else for (const run of this.runs) appendRun(run, this.overflow);
    this.runs = [];
    this.runRecords = 0;
    if (this.overflow.count === 0) return;
    this.sorted = absorb(this.sorted, this.overflow);
    this.overflow = new RecordBlocks();
    this.overflowIds = new Map();
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

  /** The id words of a sorted record (refs from forEach or find after settle); `bucket` from forEach saves a search. */
  idWords(ref: number, to: Uint32Array, bucket = this.sorted.bucketOf(ref)): void {
    this.sorted.idWords(ref, bucket, to);
  }
}

/**
 * Blob records sorted by id in an index file's layout (index-file.ts): 48 bytes each, the id's
 * 32 bytes, then pack index (top bit: tree), offset, sealed length and plaintext length as
 * u32 LE.
 */
export interface SortedRun {
  bytes: Uint8Array;
  /** Where record 0 starts. */
  at: number;
  count: number;
  /** The table's pack number for each pack index of the run; −1 for a pack indexed already, whose records are skipped. */
  packs: Int32Array;
}

function u32le(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function runPackIndex(run: SortedRun, i: number): number {
  return u32le(run.bytes, run.at + i * RUN_RECORD + 32) & ~TREE_BIT;
}

/** Record i's first location word: the table's pack number, with the tree bit; −1 to skip the record. */
function runPackWord(run: SortedRun, i: number): number {
  const word = u32le(run.bytes, run.at + i * RUN_RECORD + 32);
  const pack = run.packs[word & ~TREE_BIT];
  return pack < 0 ? -1 : (pack | (word & TREE_BIT)) >>> 0;
}

function runIdWords(run: SortedRun, i: number, to: Uint32Array, at: number): void {
  const b = run.at + i * RUN_RECORD;
  for (let w = 0; w < ID_WORDS; w++) {
    const x = b + w * 4;
    to[at + w] = ((run.bytes[x] << 24) | (run.bytes[x + 1] << 16) | (run.bytes[x + 2] << 8) | run.bytes[x + 3]) >>> 0;
  }
}

/** Location word 1 (offset), 2 (sealed length) or 3 (plaintext length) of record i. */
function runLocation(run: SortedRun, i: number, word: number): number {
  return u32le(run.bytes, run.at + i * RUN_RECORD + 32 + word * 4);
}

/** A run's records into the overflow: for runs that come when the table is not empty. */
function appendRun(run: SortedRun, to: RecordBlocks): void {
  const id = new Uint32Array(ID_WORDS);
  for (let i = 0; i < run.count; i++) {
    const pack = runPackWord(run, i);
    if (pack < 0) continue;
    runIdWords(run, i, id, 0);
    to.append(id, 0, pack, runLocation(run, i, 1), runLocation(run, i, 2), runLocation(run, i, 3));
  }
}

/**
 * One sorted table of sorted runs, by a k-way merge on a tournament ("loser") tree of the
 * runs' heads: every record is read and written once, in order, so a load costs no sort, and
 * each record costs log2(runs) comparisons, most decided by the id's first word (a binary
 * heap took twice as many, and was two thirds of a 50M-blob load). Of equal ids the earlier
 * run's comes first, as the first location of a blob stored twice wins.
 */
function mergeRuns(runs: SortedRun[], total: number): SortedRecords {
  const bits = bucketBitsFor(total);
  const shift = 32 - bits;
  const directory = new Uint32Array((1 << bits) + 1);
  const low = new Uint16Array(total);
  const rest = new Uint32Array(total * 7);
  const locations = new Uint32Array(total * LOCATION_WORDS);
  let leaves = 1;
  while (leaves < runs.length) leaves *= 2;
  const heads = new Uint32Array(leaves * ID_WORDS);
  const headPacks = new Uint32Array(leaves);
  const next = new Uint32Array(leaves);
  /** 1 for a run with no record left, and for the leaves past the last run. */
  const done = new Uint8Array(leaves).fill(1);
  /** Moves run r's head to its next record that is kept; marks the run done when it has none. */
  const advance = (r: number): void => {
    const run = runs[r];
    let pack = -1;
    while (next[r] < run.count && (pack = runPackWord(run, next[r])) < 0) next[r]++;
    if (next[r] === run.count) {
      done[r] = 1;
      return;
    }
    done[r] = 0;
    headPacks[r] = pack;
    runIdWords(run, next[r], heads, r * ID_WORDS);
  };
  /** Whether run a's head comes before run b's: a done run comes last, equal ids in run order. */
  const before = (a: number, b: number): boolean => {
    if (done[a] || done[b]) return done[b] > done[a] || (done[a] === done[b] && a < b);
    const x = heads[a * ID_WORDS];
    const y = heads[b * ID_WORDS];
    if (x !== y) return x < y;
    for (let w = 1; w < ID_WORDS; w++) {
      const u = heads[a * ID_WORDS + w];
      const v = heads[b * ID_WORDS + w];
      if (u !== v) return u < v;
    }
    return a < b;
  };
  for (let r = 0; r < runs.length; r++) advance(r);
  // Node n's loser is losers[n]; the leaves are nodes leaves … 2·leaves − 1, run r at leaves + r.
  const losers = new Uint32Array(leaves);
  const play = (node: number): number => {
    if (node >= leaves) return node - leaves;
    const left = play(2 * node);
    const right = play(2 * node + 1);
    const leftWins = before(left, right);
    losers[node] = leftWins ? right : left;
    return leftWins ? left : right;
  };
  let winner = play(1);
  for (let out = 0; !done[winner]; out++) {
    const r = winner;
    const run = runs[r];
    const at = run.at + next[r] * RUN_RECORD + 36;
    const word0 = heads[r * ID_WORDS];
    directory[(word0 >>> shift) + 1]++;
    low[out] = word0 & 0xffff;
    for (let w = 1; w < ID_WORDS; w++) rest[out * 7 + w - 1] = heads[r * ID_WORDS + w];
    locations[out * LOCATION_WORDS] = headPacks[r];
    locations[out * LOCATION_WORDS + 1] = u32le(run.bytes, at);
    locations[out * LOCATION_WORDS + 2] = u32le(run.bytes, at + 4);
    locations[out * LOCATION_WORDS + 3] = u32le(run.bytes, at + 8);
    next[r]++;
    advance(r);
    // Replays r's matches up to the root: at each node the loser stays, the winner goes on.
    winner = r;
    for (let node = (r + leaves) >> 1; node >= 1; node >>= 1) {
      const loser = losers[node];
      if (before(loser, winner)) {
        losers[node] = winner;
        winner = loser;
      }
    }
  }
  for (let b = 1; b < directory.length; b++) directory[b] += directory[b - 1];
  return new SortedRecords(bits, directory, low, rest, locations);
}

function bucketBitsFor(count: number): number {
  const bits = Math.ceil(Math.log2(count + 1)) - RECORDS_PER_BUCKET_LOG2;
  return Math.min(MAX_BUCKET_BITS, Math.max(MIN_BUCKET_BITS, bits));
}

/** Records go to 2^PARTITION_BITS partitions first, then to buckets inside each (sortRecords). */
const PARTITION_BITS = 8;

/** Columns of records: the low half of id word 0, id words 1 … 7, location words. */
interface Columns {
  low: Uint16Array;
  rest: Uint32Array;
  locations: Uint32Array;
}

function columns(count: number): Columns {
  return { low: new Uint16Array(count), rest: new Uint32Array(count * 7), locations: new Uint32Array(count * LOCATION_WORDS) };
}

function copyRecord(from: Columns, i: number, to: Columns, j: number): void {
  to.low[j] = from.low[i];
  for (let w = 0; w < 7; w++) to.rest[j * 7 + w] = from.rest[i * 7 + w];
  for (let w = 0; w < LOCATION_WORDS; w++) to.locations[j * LOCATION_WORDS + w] = from.locations[i * LOCATION_WORDS + w];
}

/**
 * Room a sorted table is given beyond its records when it has to be made anew: four batches
 * like the one that outgrew it. A first backup then copies its table once every four batches,
 * not at each (a table the size of the whole index each time: some 380 MB of arrays to collect
 * over a million-blob run), and a loaded index that takes a few new blobs grows by little.
 */
function capacityFor(total: number, added: number): number {
  return total + Math.max(4 * added, 2 * BLOCK_RECORDS);
}

/**
 * The sorted table with the overflow in it: the overflow is sorted alone, then merged from
 * the back into the table's own room, or into new columns with room to spare when there is
 * too little.
 */
function absorb(old: SortedRecords, added: RecordBlocks): SortedRecords {
  const total = old.count + added.count;
  if (old.count === 0) return sortRecords(added, capacityFor(total, added.count));
  const sorted = sortRecords(added, added.count);
  const into = old.capacity >= total ? old : columns(capacityFor(total, added.count));
  return mergeBackward(old, sorted, into, bucketBitsFor(total));
}

/**
 * Both tables' records in order into `into` (which may be `a`'s own columns), from the last
 * record to the first: a record of `a` is read before its place or any after it is written,
 * so merging in place is safe. Of equal ids `a`'s comes first, as the older record must.
 */
function mergeBackward(a: SortedRecords, b: SortedRecords, into: Columns, bits: number): SortedRecords {
  const shift = 32 - bits;
  const directory = new Uint32Array((1 << bits) + 1);
  let i = a.count - 1;
  let j = b.count - 1;
  let bucketA = a.directory.length - 2;
  let bucketB = b.directory.length - 2;
  for (let k = a.count + b.count - 1; k >= 0; k--) {
    if (i >= 0) while (a.directory[bucketA] > i) bucketA--;
    if (j >= 0) while (b.directory[bucketB] > j) bucketB--;
    // From the back, `a`'s record goes first only when it is strictly larger: of equal ids `b`'s takes the later place.
    const takeA = j < 0 || (i >= 0 && idBefore(b, j, b.word0(j, bucketB), a, i, a.word0(i, bucketA)));
    const word0 = takeA ? a.word0(i, bucketA) : b.word0(j, bucketB);
    directory[(word0 >>> shift) + 1]++;
    if (takeA) {
      if (into !== a || k !== i) copyRecord(a, i, into, k);
      i--;
    } else {
      copyRecord(b, j, into, k);
      j--;
    }
  }
  for (let d = 1; d < directory.length; d++) directory[d] += directory[d - 1];
  return new SortedRecords(bits, directory, into.low, into.rest, into.locations, a.count + b.count);
}

/** Whether record i of `a` (first id word `x`) sorts strictly before record j of `b` (first word `y`). */
function idBefore(a: SortedRecords, i: number, x: number, b: SortedRecords, j: number, y: number): boolean {
  if (x !== y) return x < y;
  for (let w = 0; w < 7; w++) {
    const u = a.rest[i * 7 + w];
    const v = b.rest[j * 7 + w];
    if (u !== v) return u < v;
  }
  return false;
}

/**
 * The overflow sorted, in columns of `capacity` records, by a radix sort on the bucket bits
 * (ids are uniform hashes, so buckets fill evenly): records go to 256 partitions on their
 * leading 8 bits, then each partition — small enough for the processor's cache — to its
 * buckets, and each bucket is insertion sorted. Straight to the buckets was slower by far:
 * every record a cache miss. Stable, so of two records of one id (a blob stored twice) the
 * older stays first, and lookups keep finding it.
 */
function sortRecords(added: RecordBlocks, capacity: number): SortedRecords {
  const total = added.count;
  const bits = bucketBitsFor(total);
  const directory = bucketDirectory(added, bits);
  const sorted = new SortedRecords(
    bits,
    directory,
    new Uint16Array(capacity),
    new Uint32Array(capacity * 7),
    new Uint32Array(capacity * LOCATION_WORDS),
    total,
  );
  const perPartition = 1 << (bits - PARTITION_BITS);
  // Each record's bucket inside its partition, from the first pass to the second.
  const buckets = new Uint16Array(total);
  const next = new Uint32Array(1 << PARTITION_BITS);
  for (let p = 0; p < next.length; p++) next[p] = directory[p * perPartition];
  for (let block = 0; block < added.ids.length; block++) {
    const ids = added.ids[block];
    const locations = added.locations[block];
    const end = Math.min(BLOCK_RECORDS, added.count - block * BLOCK_RECORDS);
    for (let slot = 0; slot < end; slot++) {
      const word0 = ids[slot * ID_WORDS];
      const to = next[word0 >>> (32 - PARTITION_BITS)]++;
      sorted.low[to] = word0 & 0xffff;
      buckets[to] = (word0 >>> (32 - bits)) & (perPartition - 1);
      for (let w = 0; w < 7; w++) sorted.rest[to * 7 + w] = ids[slot * ID_WORDS + w + 1];
      for (let w = 0; w < LOCATION_WORDS; w++) sorted.locations[to * LOCATION_WORDS + w] = locations[slot * LOCATION_WORDS + w];
    }
  }

  let scratch = columns(0);
  let scratchBuckets = new Uint16Array(0);
  for (let p = 0; p < next.length; p++) {
    const start = directory[p * perPartition];
    const count = directory[(p + 1) * perPartition] - start;
    if (scratch.low.length < count) {
      scratch = columns(count);
      scratchBuckets = new Uint16Array(count);
    }
    for (let i = 0; i < count; i++) copyRecord(sorted, start + i, scratch, i);
    scratchBuckets.set(buckets.subarray(start, start + count));
    const cursor = directory.slice(p * perPartition, (p + 1) * perPartition);
    for (let i = 0; i < count; i++) copyRecord(scratch, i, sorted, cursor[scratchBuckets[i]]++);
  }
  for (let b = 0; b + 1 < directory.length; b++) sortBucket(sorted, directory[b], directory[b + 1]);
  return sorted;
}

/** Where each bucket of the overflow's sorted table starts. */
function bucketDirectory(added: RecordBlocks, bits: number): Uint32Array {
  const shift = 32 - bits;
  const directory = new Uint32Array((1 << bits) + 1);
  for (let block = 0; block < added.ids.length; block++) {
    const ids = added.ids[block];
    const end = Math.min(BLOCK_RECORDS, added.count - block * BLOCK_RECORDS);
    for (let slot = 0; slot < end; slot++) directory[(ids[slot * ID_WORDS] >>> shift) + 1]++;
  }
  for (let b = 1; b < directory.length; b++) directory[b] += directory[b - 1];
  return directory;
}

const HELD = new Uint32Array(7 + LOCATION_WORDS);

/** Insertion sort of records start … end − 1 (one bucket: a few dozen records). */
function sortBucket(t: SortedRecords, start: number, end: number): void {
  const { low, rest, locations } = t;
  const held = HELD;
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
