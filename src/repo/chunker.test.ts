import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AVG_CHUNK, MAX_CHUNK, MIN_CHUNK, chunkLengths, gearTable, nextCut } from './chunker.js';

const gear = gearTable(Buffer.alloc(32, 1));

describe('chunker', () => {
  it('cuts within the size limits and covers the input exactly', () => {
    const data = randomBytes(24 * 1024 * 1024);
    const lengths = chunkLengths(gear, data);
    assert.equal(lengths.reduce((a, b) => a + b, 0), data.length);
    for (const len of lengths.slice(0, -1)) {
      assert.ok(len > MIN_CHUNK && len <= MAX_CHUNK, `chunk of ${len} bytes`);
    }
    const mean = data.length / lengths.length;
    assert.ok(mean > AVG_CHUNK / 2 && mean < AVG_CHUNK * 2, `mean chunk ${mean}`);
  });

  it('resynchronises after an insertion at the start, so only the first chunks change', () => {
    const data = randomBytes(16 * 1024 * 1024);
    const edited = Buffer.concat([Buffer.from('a few new bytes'), data]);
    const boundaries = (buf: Buffer, shift: number) => {
      const set = new Set<number>();
      let pos = 0;
      for (const len of chunkLengths(gear, buf)) set.add((pos += len) - shift);
      return set;
    };
    const before = boundaries(data, 0);
    const after = boundaries(edited, 15);
    const shared = [...after].filter((b) => before.has(b)).length;
    assert.ok(shared >= before.size - 2, `${shared} of ${before.size} boundaries kept`);
  });

  it('depends on the seed', () => {
    const data = randomBytes(8 * 1024 * 1024);
    const other = gearTable(Buffer.alloc(32, 2));
    assert.notDeepEqual(chunkLengths(gear, data), chunkLengths(other, data));
  });

  it('asks for more data instead of cutting at a buffer end that is not the stream end', () => {
    const data = randomBytes(MIN_CHUNK + 10);
    assert.equal(nextCut(gear, data, 0, data.length, false), -1);
    assert.equal(nextCut(gear, data, 0, data.length, true), data.length);
    const zeros = Buffer.alloc(MAX_CHUNK + 5);
    assert.equal(nextCut(gear, zeros, 0, zeros.length, false), MAX_CHUNK);
  });
});
