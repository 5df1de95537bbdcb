import { createRequire } from 'node:module';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { DriveseedError } from '../errors.js';

/*
 * zstd-napi's low-level binding, because its high-level Compressor allocates a fresh output
 * buffer of compressBound(input) per call; on the backup hot path, compressing into one
 * reused scratch buffer saves a page-faulting allocation per chunk.
 */
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as typeof ZstdBinding;

/**
 * Every compressible payload starts with one codec byte, so a reader knows how to decode it
 * and data that does not shrink (already compressed media, encrypted files) is stored raw
 * instead of growing.
 */
export const CODEC_RAW = 0;
export const CODEC_ZSTD = 1;

/**
 * zstd level 2: on real system files it gives the repository size of `restic --compression
 * auto` (level 3 is 3% smaller, level 1 6% larger) at 25% more speed than level 3, and
 * compression is most of a first backup's CPU time (docs/format.md, Payload codec).
 */
export const DEFAULT_LEVEL = 2;

/**
 * With the default level, a 32k-entry hash table instead of level 2's 64k: it stays in the
 * core's cache, and compression ran 8–10% faster for 1.3% more bytes on 600 MB of system
 * libraries in 1 MiB chunks (420–433 against 390–394 MB/s a core). 2^14 gained little more
 * for 3% more bytes. Any zstd reader decodes the result.
 */
const DEFAULT_HASH_LOG = 15;

/**
 * With the default level, a 256 KiB window instead of level 2's 1 MiB: 8–9% faster again for
 * 0.4% more bytes on the 2.2 GB bench tree in chunks (518 against 477 MB/s a core, in one run).
 * Chunks average 512 KiB, so a longer window finds few more matches; a reader needs less memory.
 */
const DEFAULT_WINDOW_LOG = 18;

// One native context and scratch buffer per thread (each worker thread loads its own copy).
let cctx: ZstdBinding.CCtx | undefined;
let cctxLevel = -1;
let dctx: ZstdBinding.DCtx | undefined;
let scratch = Buffer.alloc(0);

/**
 * codec ‖ payload for `data`. The result is a view of a per-thread scratch buffer that the
 * next call overwrites: seal or copy it before encoding anything else.
 */
export function encodePayload(data: Uint8Array, level = DEFAULT_LEVEL): Buffer {
  const bound = zstd.compressBound(data.length) + 1;
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, 64 * 1024));
  const compressed = context(level).compress2(scratch.subarray(1), data);
  if (compressed < data.length) {
    scratch[0] = CODEC_ZSTD;
    return scratch.subarray(0, compressed + 1);
  }
  scratch[0] = CODEC_RAW;
  scratch.set(data, 1);
  return scratch.subarray(0, data.length + 1);
}

/** The thread's compression context, set for `level` (parameters stick between calls). */
function context(level: number): ZstdBinding.CCtx {
  cctx ??= new zstd.CCtx();
  if (level !== cctxLevel) {
    cctx.setParameter(zstd.CParameter.compressionLevel, level);
    const tuned = level === DEFAULT_LEVEL;
    cctx.setParameter(zstd.CParameter.hashLog, tuned ? DEFAULT_HASH_LOG : 0);
    cctx.setParameter(zstd.CParameter.windowLog, tuned ? DEFAULT_WINDOW_LOG : 0);
    cctxLevel = level;
  }
  return cctx;
}

/**
 * The plaintext of `payload`, at most `maxSize` bytes: the caller's known bound (a blob's
 * plaintext length from the index, a chunk's maximum, a sealed file kind's limit). A valid
 * frame may expand 32 KiB a byte (MAX_ZSTD_RATIO), so without the caller's bound a 64 KB
 * frame of RLE blocks is 2 GiB of output, allocated and written; with it, a frame whose
 * header claims more is refused before anything is allocated.
 */
export function decodePayload(payload: Buffer, what: string, maxSize: number): Buffer {
  return decode(payload, what, maxSize, (size) => Buffer.allocUnsafe(size));
}

let decodeScratch: Buffer = Buffer.alloc(0);

/**
 * decodePayload into a per-thread scratch buffer that the next call overwrites (a raw payload
 * is returned as the view of its input it is). For the restore workers, which write each
 * blob out before decoding the next: no allocation per blob.
 */
export function decodePayloadReusing(payload: Buffer, what: string, maxSize: number): Buffer {
  return decode(payload, what, maxSize, (size) => {
    if (decodeScratch.length < size) decodeScratch = Buffer.allocUnsafe(Math.max(size, 1024 * 1024));
    return decodeScratch.subarray(0, size);
  });
}

function decode(payload: Buffer, what: string, maxSize: number, output: (size: number) => Buffer): Buffer {
  if (payload.length === 0) throw new DriveseedError('CORRUPT', `${what}: empty payload`);
  const body = payload.subarray(1);
  switch (payload[0]) {
    case CODEC_RAW:
      if (body.length > maxSize) throw new DriveseedError('CORRUPT', `${what}: ${body.length} bytes, more than the ${maxSize} it may hold`);
      return body;
    case CODEC_ZSTD:
      return decompress(body, what, maxSize, output);
    default:
      throw new DriveseedError('CORRUPT', `${what}: unknown codec ${payload[0]}`);
  }
}

/**
 * The most a valid zstd frame expands: a block holds at most 128 KiB, and the smallest block
 * (an RLE block: 3 bytes of header, 1 of data) is 4 bytes, so no frame decodes to more than
 * 32 KiB per byte. A content size above that is a lie, refused before anything is allocated.
 */
export const MAX_ZSTD_RATIO = 32 * 1024;

function decompress(frame: Buffer, what: string, maxSize: number, output: (size: number) => Buffer): Buffer {
  let size: number | null;
  try {
    size = zstd.getFrameContentSize(frame);
  } catch (cause) {
    throw new DriveseedError('CORRUPT', `${what}: zstd data does not decode`, { cause });
  }
  // Its own message: a frame that decodes, only to more than the reader allows, is a planted one.
  if (size !== null && size > maxSize) throw new DriveseedError('CORRUPT', `${what}: zstd frame claims ${size} bytes, more than the ${maxSize} it may hold`);
  try {
    if (size === null || size > 0x7fffffff) throw new Error('frame without a usable content size');
    // Checked before the output is allocated: a damaged header's size was 2 GiB allocated for
    // a 16-byte payload (found by compression.fuzz.test.ts).
    if (size > frame.length * MAX_ZSTD_RATIO) throw new Error(`content size ${size} is more than a frame of ${frame.length} bytes holds`);
    const out = output(size);
    dctx ??= new zstd.DCtx();
    if (dctx.decompress(out, frame) !== size) throw new Error('frame shorter than its content size');
    return out;
  } catch (cause) {
    throw new DriveseedError('CORRUPT', `${what}: zstd data does not decode`, { cause });
  }
}
