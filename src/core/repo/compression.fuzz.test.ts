import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DriveseedError } from '../errors.js';
import { fuzz } from '../../testing/fuzz.js';
import { MAX_CHUNK } from './chunker.js';
import { CODEC_ZSTD, decodePayload, decodePayloadReusing, encodePayload, MAX_ZSTD_RATIO } from './compression.js';
import { seal } from './crypto.js';
import { decodeSealed } from './sealed-file.js';

it('fuzz: a sealed payload (codec byte, raw or zstd) decodes or is a DriveseedError, allocating no more than it may', () => {
  const text = Buffer.from('{"nodes":[' + '{"name":"file","type":"file"},'.repeat(200) + '{}]}');
  fuzz({
    name: 'payload codec',
    samples: [encodePayload(text), encodePayload(Buffer.alloc(100_000)), encodePayload(randomBytes(300))],
    decode: (input) => decodePayload(input, 'payload', 1024 * 1024),
    // The bound is the caller's (1 MiB here), whatever a frame's header claims or a valid frame
    // could expand to (the zero-filled sample decodes to 100 KB from 22 bytes).
    allocationBound: (input) => 2 * 1024 * 1024 + input.length,
    // Found after 19,877 inputs (seed 1): a content size of 2^31 − 1 in the frame header had
    // 2 GiB allocated before the frame failed to decode.
    regressions: [Buffer.from([1, 40, 181, 47, 253, 128, 0, 0, 0, 255, 127, 36, 2, 168, 105, 64])],
  });
});

/**
 * A valid zstd frame that expands as far as the format allows: a header claiming `blocks` ×
 * 128 KiB, then that many RLE blocks of 4 bytes each (3 of header, 1 of value). 16,384 blocks
 * are 64 KB that decode, for real, to 2 GiB.
 */
function rleBomb(blocks: number): Buffer {
  const block = 128 * 1024;
  const frame = Buffer.alloc(4 + 1 + 8 + 4 * blocks);
  frame.writeUInt32LE(0xfd2fb528, 0);
  // Frame header descriptor: an 8-byte content size, single segment (no window descriptor), no checksum.
  frame[4] = 0xe0;
  frame.writeBigUInt64LE(BigInt(blocks * block), 5);
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    frame.writeUIntLE((block << 3) | (1 << 1) | last, 13 + 4 * i, 3);
    frame[13 + 4 * i + 3] = 0x41;
  }
  return Buffer.concat([Buffer.from([CODEC_ZSTD]), frame]);
}

it("a hostile 64 KB zstd frame that decodes to 2 GiB is refused by the caller's bound, before its output is allocated", () => {
  // The crafted frame is real zstd: a small one decodes to what its header says.
  const small = decodePayload(rleBomb(16), 'small bomb', 2 * 1024 * 1024);
  assert.equal(small.length, 2 * 1024 * 1024);
  assert.ok(small.every((b) => b === 0x41));

  const bomb = rleBomb(16_384);
  assert.ok(bomb.length < 66 * 1024 && bomb.length * MAX_ZSTD_RATIO >= 2 ** 31, 'within the ratio any valid frame may have');
  const key = randomBytes(64);
  const before = process.memoryUsage().arrayBuffers;
  // A data blob: at most one chunk, or what the index says its plaintext is.
  assert.throws(
    () => decodePayload(bomb, 'data blob x', MAX_CHUNK),
    (e: unknown) =>
      e instanceof DriveseedError && e.code === 'CORRUPT' && /data blob x: zstd frame claims 2147483648 bytes, more than the 4194304/.test(e.message),
  );
  assert.throws(() => decodePayloadReusing(bomb, 'data blob x', MAX_CHUNK), /more than the 4194304 it may hold/);
  // A sealed index file of 64 KB: bounded by its kind and size (at most a few hundred KiB of records).
  const index = seal(key.subarray(0, 32), bomb, Buffer.from('driveseed index v1', 'latin1'));
  assert.throws(() => decodeSealed(key.subarray(0, 32), 'index', index, 'index/planted'), /index\/planted: zstd frame claims 2147483648 bytes/);
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 4 * 1024 * 1024, `refusing the frame allocated ${grown} bytes`);
});
