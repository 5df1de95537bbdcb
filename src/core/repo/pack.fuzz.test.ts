import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { seal } from './crypto.js';
import { decodePackHeader, encodePackTail, PACK_TRAILER_LENGTH, parsePackTrailer, type PackedBlob } from './pack.js';

const key = randomBytes(32);
const HEADER_AAD = Buffer.from('driveseed pack header v1', 'latin1');

function blobs(n: number): PackedBlob[] {
  let offset = 0;
  return Array.from({ length: n }, (_, i) => {
    const length = 100 + i * 7;
    const blob: PackedBlob = { type: i % 2 ? 'tree' : 'data', id: randomBytes(32).toString('hex'), offset, length, rawLength: length - 29 };
    offset += length;
    return blob;
  });
}

/** A pack as check.ts reads it whole: the trailer, then the header it points at. */
function readPack(bytes: Buffer): PackedBlob[] {
  const at = parsePackTrailer(bytes.subarray(Math.max(0, bytes.length - PACK_TRAILER_LENGTH)), bytes.length, 'pack');
  return decodePackHeader(key, bytes.subarray(at.offset, at.offset + at.length), 'pack');
}

it('fuzz: a pack trailer and header decode to blobs or a DriveseedError', () => {
  const pack = (n: number) => {
    const list = blobs(n);
    return Buffer.concat([randomBytes(list.reduce((sum, b) => sum + b.length, 0)), encodePackTail(key, list)]);
  };
  fuzz({
    name: 'pack trailer',
    samples: [pack(0), pack(1), pack(3)],
    decode: readPack,
    checkValue: (value, input) => assert.ok(Array.isArray(value) && input.length >= PACK_TRAILER_LENGTH),
  });
});

it('fuzz: a pack header that decrypts decodes to blobs or a DriveseedError', () => {
  // Sealed as a key holder would: mutations of the sealed bytes only fail authentication,
  // so the plaintext is what is mutated here.
  const header = (n: number) => {
    const sealed = encodePackTail(key, blobs(n));
    const { offset, length } = parsePackTrailer(sealed.subarray(sealed.length - PACK_TRAILER_LENGTH), sealed.length, 'pack');
    return decodeSealedHeaderPlaintext(sealed.subarray(offset, offset + length));
  };
  fuzz({
    name: 'pack header',
    samples: [header(1), header(2), header(5)],
    decode: (input) => decodePackHeader(key, seal(key, input, HEADER_AAD), 'pack'),
    checkValue: (value) => {
      for (const blob of value as PackedBlob[]) assert.ok(Number.isSafeInteger(blob.offset) && blob.id.length === 64);
    },
  });
});

function decodeSealedHeaderPlaintext(sealed: Buffer): Buffer {
  const list = decodePackHeader(key, sealed, 'sample');
  const out = Buffer.alloc(list.length * 41);
  list.forEach((b, i) => {
    out[i * 41] = b.type === 'tree' ? 1 : 0;
    out.write(b.id, i * 41 + 1, 'hex');
    out.writeUInt32LE(b.length, i * 41 + 33);
    out.writeUInt32LE(b.rawLength, i * 41 + 37);
  });
  return out;
}
