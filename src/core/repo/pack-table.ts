import type { Id } from './ids.js';
import { hexToWords, ID_WORDS, wordsToHex } from './id-words.js';

/** No index file names the pack (it was indexed from its header, in memory only). */
export const NO_SOURCE = 0xffff_ffff;
const FIRST_CAPACITY = 1024;
/** Hash slots a pack: few enough to cost 6 bytes a pack, enough to keep probes short. */
const SLOTS_PER_PACK = 1.5;

/**
 * The packs of the compact index, numbered in the order they came: a blob record names its
 * pack by number, so a pack id is stored once, not once per blob. Found by id through an
 * open-addressing table of pack numbers on the ids' second word (ids are uniform hashes).
 */
export class PackTable {
  private ids = new Uint32Array(FIRST_CAPACITY * ID_WORDS);
  private sizes = new Uint32Array(FIRST_CAPACITY);
  /** The index file (a number of the index's file list) that first named the pack. */
  private sources = new Uint32Array(FIRST_CAPACITY);
  /** Pack number + 1 per slot; 0 is free. */
  private slots = new Uint32Array(Math.ceil(FIRST_CAPACITY * SLOTS_PER_PACK));
  private readonly key = new Uint32Array(ID_WORDS);
  count = 0;

  /** The pack's number, or −1. */
  find(id: Id): number {
    hexToWords(id, this.key, 0);
    return this.findWords(this.key, 0);
  }

  findWords(id: Uint32Array, at: number): number {
    for (let slot = id[at + 1] % this.slots.length; ; slot = (slot + 1) % this.slots.length) {
      const n = this.slots[slot];
      if (n === 0) return -1;
      if (this.sameId(n - 1, id, at)) return n - 1;
    }
  }

  /** Adds a pack not in the table; returns its number. */
  add(id: Uint32Array, at: number, size: number, source: number): number {
    if (this.count === this.sizes.length) this.resize(this.count * 2);
    const n = this.count++;
    this.ids.set(id.subarray(at, at + ID_WORDS), n * ID_WORDS);
    this.sizes[n] = size;
    this.sources[n] = source;
    this.place(n);
    return n;
  }

  idOf(n: number): Id {
    return wordsToHex(this.ids, n * ID_WORDS);
  }

  idWords(n: number): Uint32Array {
    return this.ids.subarray(n * ID_WORDS, (n + 1) * ID_WORDS);
  }

  sizeOf(n: number): number {
    return this.sizes[n];
  }

  sourceOf(n: number): number {
    return this.sources[n];
  }

  setSource(n: number, source: number): void {
    this.sources[n] = source;
  }

  /** Gives back the room grown for packs to come: after a load, the table is sized exactly. */
  trim(): void {
    if (this.count > FIRST_CAPACITY) this.resize(this.count);
  }

  private resize(capacity: number): void {
    this.ids = copyInto(new Uint32Array(capacity * ID_WORDS), this.ids, this.count * ID_WORDS);
    this.sizes = copyInto(new Uint32Array(capacity), this.sizes, this.count);
    this.sources = copyInto(new Uint32Array(capacity), this.sources, this.count);
    // One more slot than packs at the least, so a probe always meets a free slot.
    this.slots = new Uint32Array(Math.ceil(capacity * SLOTS_PER_PACK) + 1);
    for (let n = 0; n < this.count; n++) this.place(n);
  }

  private place(n: number): void {
    let slot = this.ids[n * ID_WORDS + 1] % this.slots.length;
    while (this.slots[slot] !== 0) slot = (slot + 1) % this.slots.length;
    this.slots[slot] = n + 1;
  }

  private sameId(n: number, id: Uint32Array, at: number): boolean {
    for (let w = 0; w < ID_WORDS; w++) if (this.ids[n * ID_WORDS + w] !== id[at + w]) return false;
    return true;
  }
}

function copyInto(to: Uint32Array<ArrayBuffer>, from: Uint32Array, length: number): Uint32Array<ArrayBuffer> {
  to.set(from.subarray(0, length));
  return to;
}
