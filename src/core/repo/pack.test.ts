import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isDriveseedError } from '../errors.js';
import { open, seal, SEAL_OVERHEAD, sealInto } from './crypto.js';
import { blobAad, decodePackHeader, encodePackTail, PackBuilder, packTailLength, parsePackTrailer, PACK_TRAILER_LENGTH, type PackedBlob } from './pack.js';

const key = randomBytes(32);

function buildPack(count: number): { bytes: Buffer; blobs: PackedBlob[] } {
  const parts: Buffer[] = [];
  const blobs: PackedBlob[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const id = randomBytes(32).toString('hex');
    const sealed = seal(key, randomBytes(100 + i), blobAad('data', id));
    blobs.push({ type: i % 2 ? 'tree' : 'data', id, offset, length: sealed.length, rawLength: 100 + i });
    parts.push(sealed);
    offset += sealed.length;
  }
  return { bytes: Buffer.concat([...parts, encodePackTail(key, blobs)]), blobs };
}

describe('pack format', () => {
  it('round-trips the header through the trailer', () => {
    const { bytes, blobs } = buildPack(5);
    const at = parsePackTrailer(bytes.subarray(bytes.length - PACK_TRAILER_LENGTH), bytes.length, 'p');
    assert.deepEqual(decodePackHeader(key, bytes.subarray(at.offset, at.offset + at.length), 'p'), blobs);
  });

  it('rejects an unknown pack version and a damaged header', () => {
    const { bytes } = buildPack(2);
    const newer = Buffer.from(bytes);
    newer[newer.length - 1] = 2;
    assert.throws(
      () => parsePackTrailer(newer.subarray(newer.length - PACK_TRAILER_LENGTH), newer.length, 'p'),
      (e) => isDriveseedError(e, 'UNSUPPORTED_VERSION'),
    );
    const at = parsePackTrailer(bytes.subarray(bytes.length - PACK_TRAILER_LENGTH), bytes.length, 'p');
    const damaged = Buffer.from(bytes.subarray(at.offset, at.offset + at.length));
    damaged[20] ^= 1;
    assert.throws(
      () => decodePackHeader(key, damaged, 'p'),
      (e) => isDriveseedError(e, 'CORRUPT'),
    );
    assert.throws(
      () => decodePackHeader(randomBytes(32), bytes.subarray(at.offset, at.offset + at.length), 'p'),
      (e) => isDriveseedError(e, 'CORRUPT'),
    );
  });

  it('builds a pack in a fixed buffer: blobs sealed in place, never past the end with their header', () => {
    const buffer = Buffer.alloc(4096);
    const builder = new PackBuilder(buffer.length);
    const plain: Buffer[] = [];
    // Tiny blobs: the header entries, not the blobs, are what would overrun the buffer.
    for (;;) {
      const data = randomBytes(plain.length % 7);
      if (!builder.fits(data.length + SEAL_OVERHEAD)) break;
      const id = randomBytes(32).toString('hex');
      const written = sealInto(key, data, blobAad('data', id), buffer, builder.size);
      assert.equal(written, data.length + SEAL_OVERHEAD);
      builder.commit('data', id, written, data.length);
      plain.push(data);
    }
    assert.ok(plain.length > 20);
    assert.throws(() => builder.commit('data', 'ff'.repeat(32), 4096, 1), /overrun/);
    const length = builder.writeTail(key, buffer);
    assert.ok(length <= buffer.length);
    assert.equal(length, builder.size + packTailLength(plain.length));
    const bytes = buffer.subarray(0, length);
    const at = parsePackTrailer(bytes.subarray(length - PACK_TRAILER_LENGTH), length, 'p');
    const blobs = decodePackHeader(key, bytes.subarray(at.offset, at.offset + at.length), 'p');
    assert.deepEqual(blobs, builder.blobs);
    blobs.forEach((blob, i) => {
      const sealed = bytes.subarray(blob.offset, blob.offset + blob.length);
      assert.deepEqual(open(key, sealed, blobAad('data', blob.id), 'b'), plain[i]);
    });
  });
});
