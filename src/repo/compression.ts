import { Compressor, Decompressor } from 'zstd-napi';
import { DriveseedError } from '../errors.js';

/**
 * Every compressible payload starts with one codec byte, so a reader knows how to decode it
 * and data that does not shrink (already compressed media, encrypted files) is stored raw
 * instead of growing.
 */
export const CODEC_RAW = 0;
export const CODEC_ZSTD = 1;

/** zstd level 3: zstd's own default, and what `restic --compression auto` is comparable to. */
export const DEFAULT_LEVEL = 3;

// One native context per thread: creating a zstd context per blob costs more than small blobs.
let compressor: Compressor | undefined;
let compressorLevel = -1;
let decompressor: Decompressor | undefined;

function compressorFor(level: number): Compressor {
  if (!compressor || compressorLevel !== level) {
    compressor = new Compressor();
    compressor.setParameters({ compressionLevel: level });
    compressorLevel = level;
  }
  return compressor;
}

export function encodePayload(data: Uint8Array, level = DEFAULT_LEVEL): Buffer {
  const input = Buffer.from(data.buffer, data.byteOffset, data.length);
  const compressed = compressorFor(level).compress(input);
  if (compressed.length + 1 < data.length) return Buffer.concat([Buffer.from([CODEC_ZSTD]), compressed]);
  return Buffer.concat([Buffer.from([CODEC_RAW]), input]);
}

export function decodePayload(payload: Buffer, what: string): Buffer {
  if (payload.length === 0) throw new DriveseedError('CORRUPT', `${what}: empty payload`);
  const body = payload.subarray(1);
  switch (payload[0]) {
    case CODEC_RAW:
      return body;
    case CODEC_ZSTD:
      decompressor ??= new Decompressor();
      try {
        return decompressor.decompress(body);
      } catch (cause) {
        throw new DriveseedError('CORRUPT', `${what}: zstd data does not decode`, { cause });
      }
    default:
      throw new DriveseedError('CORRUPT', `${what}: unknown codec ${payload[0]}`);
  }
}
