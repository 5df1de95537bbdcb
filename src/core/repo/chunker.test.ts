import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AVG_CHUNK, Chunker, MAX_CHUNK, MIN_CHUNK, chunkLengths, gearTable, type GearTable } from './chunker.js';

const gear = gearTable(Buffer.alloc(32, 1));

describe('chunker', () => {
  it('cuts within the size limits and covers the input exactly', () => {
    const data = randomBytes(24 * 1024 * 1024);
    const lengths = chunkLengths(gear, data);
    assert.equal(
      lengths.reduce((a, b) => a + b, 0),
      data.length,
    );
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
    const chunker = new Chunker(gear, MAX_CHUNK + 5);
    chunker.buffer.set(randomBytes(MIN_CHUNK + 10));
    assert.equal(chunker.nextCut(0, MIN_CHUNK + 10, false), -1);
    assert.equal(chunker.nextCut(0, MIN_CHUNK + 10, true), MIN_CHUNK + 10);
    chunker.buffer.fill(0);
    assert.equal(chunker.nextCut(0, MAX_CHUNK + 5, false), MAX_CHUNK);
  });

  it('cuts exactly where the plain gear hash of FastCDC cuts, on random and on real-looking data', () => {
    const text = Buffer.from('int main(void) { return 0; }\n'.repeat(400_000));
    const noisy = randomBytes(12 * 1024 * 1024);
    for (const data of [noisy, text, Buffer.concat([text.subarray(0, 3_000_000), noisy])]) {
      assert.deepEqual(chunkLengths(gear, data), referenceLengths(gear, data));
    }
  });
});

/** FastCDC as the paper writes it, one byte at a time: what the WebAssembly scan must equal. */
function referenceLengths(gear: GearTable, data: Uint8Array): number[] {
  const small = (((1 << 21) - 1) << 11) | 0;
  const large = (((1 << 17) - 1) << 15) | 0;
  const out: number[] = [];
  for (let start = 0; start < data.length;) {
    const end = Math.min(data.length, start + MAX_CHUNK);
    let cut = end;
    let h = 0;
    for (let i = start + MIN_CHUNK; i < end; i++) {
      h = ((h << 1) + gear[data[i]]) | 0;
      if ((h & (i < start + AVG_CHUNK ? small : large)) === 0) {
        cut = i + 1;
        break;
      }
    }
    if (data.length - start <= MIN_CHUNK) cut = data.length;
    out.push(cut - start);
    start = cut;
  }
  return out;
}
