import { DriveseedError } from '../errors.js';
import { open, seal, SEAL_OVERHEAD } from './crypto.js';
import type { Id } from './ids.js';

/*
 * A pack file holds many encrypted blobs followed by an encrypted header that lists them:
 *
 *   blob_1 ‖ … ‖ blob_n ‖ sealed(header) ‖ u32le(len(sealed header)) ‖ "DSP" ‖ version
 *
 * Each header entry is 41 bytes: type (1), blob id (32), sealed length (u32le), plaintext
 * length (u32le); blob offsets follow from the order. docs/format.md has the byte layout.
 */

/** File contents are data blobs; directories are tree blobs (tree.ts). */
export type BlobType = 'data' | 'tree';

export const PACK_VERSION = 1;
/** Packs close once they reach this size: "tens of MiB" keeps file counts low on drives and in blob storage. */
export const PACK_TARGET_SIZE = 16 * 1024 * 1024;
/**
 * Size of a chunk worker's pack buffer: a pack closes at PACK_TARGET_SIZE, so it may hold one
 * more blob of up to 4 MiB (the largest chunk) and then its tail.
 */
export const PACK_BUFFER_SIZE = PACK_TARGET_SIZE + 5 * 1024 * 1024;
const MAGIC = Buffer.from('DSP', 'latin1');
const TRAILER_LENGTH = 8;
const ENTRY_LENGTH = 41;
const HEADER_AAD = Buffer.from('driveseed pack header v1', 'latin1');
const TYPE_CODE: Record<BlobType, number> = { data: 0, tree: 1 };

export interface PackedBlob {
  type: BlobType;
  id: Id;
  offset: number;
  /** Length of the sealed blob in the pack. */
  length: number;
  /** Length of the blob's plaintext (uncompressed). */
  rawLength: number;
}

/** The AEAD associated data of a blob binds the ciphertext to its id and type. */
export function blobAad(type: BlobType, id: Id): Buffer {
  return Buffer.concat([Buffer.from([TYPE_CODE[type]]), Buffer.from(id, 'hex')]);
}

/** Bytes of the sealed header and trailer of a pack of `blobCount` blobs. */
export function packTailLength(blobCount: number): number {
  return blobCount * ENTRY_LENGTH + SEAL_OVERHEAD + TRAILER_LENGTH;
}

/**
 * The layout of a pack being built: its blobs' header entries, in order, and the bytes they
 * take. The bytes themselves are the caller's, because packs are built in two places: a chunk
 * worker seals blobs straight into a pack buffer it was lent, whose size is the capacity;
 * main collects sealed blobs as parts (open-packs.ts) and has no capacity. A blob goes in only
 * if it and the header that then lists it still fit, so a pack of many tiny blobs cannot
 * overrun its buffer.
 */
export class PackBuilder {
  readonly blobs: PackedBlob[] = [];
  size = 0;

  constructor(readonly capacity = Number.POSITIVE_INFINITY) {}

  fits(sealedLength: number): boolean {
    return this.size + sealedLength + packTailLength(this.blobs.length + 1) <= this.capacity;
  }

  /** Records the blob of `sealedLength` bytes that goes at `size` (check `fits` first). */
  commit(type: BlobType, id: Id, sealedLength: number, rawLength: number): void {
    if (!this.fits(sealedLength)) throw new Error(`pack buffer overrun: ${this.size} + ${sealedLength} of ${this.capacity} bytes`);
    this.blobs.push({ type, id, offset: this.size, length: sealedLength, rawLength });
    this.size += sealedLength;
  }

  /** The sealed header and the trailer, which follow the blobs. */
  tail(key: Buffer): Buffer {
    return encodePackTail(key, this.blobs);
  }

  /** Writes the tail after the blobs in `buffer`; the pack's bytes are then buffer[0, returned length). */
  writeTail(key: Buffer, buffer: Buffer): number {
    return this.size + this.tail(key).copy(buffer, this.size);
  }
}

export function encodePackTail(key: Buffer, blobs: readonly PackedBlob[]): Buffer {
  const header = Buffer.alloc(blobs.length * ENTRY_LENGTH);
  blobs.forEach((blob, i) => {
    const at = i * ENTRY_LENGTH;
    header[at] = TYPE_CODE[blob.type];
    Buffer.from(blob.id, 'hex').copy(header, at + 1);
    header.writeUInt32LE(blob.length, at + 33);
    header.writeUInt32LE(blob.rawLength, at + 37);
  });
  const sealed = seal(key, header, HEADER_AAD);
  const trailer = Buffer.alloc(TRAILER_LENGTH);
  trailer.writeUInt32LE(sealed.length, 0);
  MAGIC.copy(trailer, 4);
  trailer[7] = PACK_VERSION;
  return Buffer.concat([sealed, trailer]);
}

/** Reads the trailer; returns where the sealed header starts and how long it is. */
export function parsePackTrailer(trailer: Buffer, packSize: number, what: string): { offset: number; length: number } {
  if (trailer.length !== TRAILER_LENGTH || !trailer.subarray(4, 7).equals(MAGIC)) {
    throw new DriveseedError('CORRUPT', `${what}: not a driveseed pack (bad trailer)`);
  }
  if (trailer[7] !== PACK_VERSION) {
    throw new DriveseedError('UNSUPPORTED_VERSION', `${what}: pack format version ${trailer[7]} is not supported`);
  }
  const length = trailer.readUInt32LE(0);
  const offset = packSize - TRAILER_LENGTH - length;
  if (length < SEAL_OVERHEAD || offset < 0) throw new DriveseedError('CORRUPT', `${what}: header length out of range`);
  return { offset, length };
}

export function decodePackHeader(key: Buffer, sealedHeader: Buffer, what: string): PackedBlob[] {
  const header = open(key, sealedHeader, HEADER_AAD, `${what} header`);
  if (header.length % ENTRY_LENGTH !== 0) throw new DriveseedError('CORRUPT', `${what}: header has a partial entry`);
  const blobs: PackedBlob[] = [];
  let offset = 0;
  for (let at = 0; at < header.length; at += ENTRY_LENGTH) {
    const code = header[at];
    if (code !== 0 && code !== 1) throw new DriveseedError('CORRUPT', `${what}: unknown blob type ${code}`);
    const length = header.readUInt32LE(at + 33);
    blobs.push({
      type: code === 0 ? 'data' : 'tree',
      id: header.subarray(at + 1, at + 33).toString('hex'),
      offset,
      length,
      rawLength: header.readUInt32LE(at + 37),
    });
    offset += length;
  }
  return blobs;
}

export const PACK_TRAILER_LENGTH = TRAILER_LENGTH;
