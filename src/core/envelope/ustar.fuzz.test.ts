import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from '../../testing/fuzz.js';
import { decodeHeader, encodeHeader, TAR_BLOCK } from './ustar.js';

it('fuzz: a ustar block is a header with a usable size, the end, or not a header', () => {
  const samples = [
    encodeHeader('driveseed-drive.json', 300, new Date()),
    encodeHeader('payload/000123', 4 * 1024 * 1024 + 28, new Date()),
    Buffer.alloc(TAR_BLOCK),
  ];
  fuzz({
    name: 'ustar header',
    samples,
    // A crafted drive carries valid checksums: without fixing it up a mutation only fails the
    // checksum and never reaches the fields behind it.
    decode: (input) => decodeHeader(withChecksum(input)),
    // The image reader seeks and reads by this size: NaN or a negative one must not get out.
    checkValue: (value) => {
      if (typeof value === 'object' && value !== null) {
        const { name, size } = value as { name: unknown; size: unknown };
        assert.ok(
          typeof name === 'string' && Number.isSafeInteger(size) && (size as number) >= 0,
          `header with name ${JSON.stringify(name)} and size ${String(size)}`,
        );
      }
    },
  });
});

function withChecksum(block: Buffer): Buffer {
  if (block.length < TAR_BLOCK) return block;
  const out = Buffer.from(block);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of out.subarray(0, TAR_BLOCK)) sum += byte;
  out.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return out;
}
