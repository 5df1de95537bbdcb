import { it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { decodePayload, encodePayload, MAX_ZSTD_RATIO } from './compression.js';

it('fuzz: a sealed payload (codec byte, raw or zstd) decodes or is a DriveseedError, allocating no more than it may', () => {
  const text = Buffer.from('{"nodes":[' + '{"name":"file","type":"file"},'.repeat(200) + '{}]}');
  fuzz({
    name: 'payload codec',
    samples: [encodePayload(text), encodePayload(Buffer.alloc(100_000)), encodePayload(randomBytes(300))],
    decode: (input) => decodePayload(input, 'payload'),
    // The bound is what a valid frame may expand to (the zero-filled sample decodes to 100 KB
    // from 22 bytes), not what its header claims.
    allocationBound: (input) => 1024 * 1024 + MAX_ZSTD_RATIO * input.length,
    // Found after 19,877 inputs (seed 1): a content size of 2^31 − 1 in the frame header had
    // 2 GiB allocated before the frame failed to decode.
    regressions: [Buffer.from([1, 40, 181, 47, 253, 128, 0, 0, 0, 255, 127, 36, 2, 168, 105, 64])],
  });
});
