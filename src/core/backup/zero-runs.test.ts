import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HOLE_BLOCK, isAllZero, nonZeroRuns, ZeroChunkIds } from './zero-runs.js';

/** What a restore writes of `data` at `offset` into an empty file: the runs, zeros elsewhere. */
function written(data: Buffer, offset: number): Buffer {
  const out = Buffer.alloc(data.length);
  for (const [start, end] of nonZeroRuns(data, offset)) data.copy(out, start, start, end);
  return out;
}

describe('zero runs', () => {
  it('tells all-zero buffers of any length from ones with a single non-zero byte anywhere', () => {
    assert.equal(isAllZero(Buffer.alloc(0)), false);
    for (const length of [1, 4095, 4096, 4 * 1024 * 1024, 4 * 1024 * 1024 + 17, 9 * 1024 * 1024]) {
      assert.equal(isAllZero(Buffer.alloc(length)), true, `${length} zeros`);
      for (const at of [0, length >> 1, length - 1]) {
        const data = Buffer.alloc(length);
        data[at] = 1;
        assert.equal(isAllZero(data), false, `${length} bytes, one set at ${at}`);
      }
    }
  });

  it('hashes a zero chunk once per length and never answers for data', () => {
    let hashed = 0;
    const ids = new ZeroChunkIds((d) => `id-${d.length}-${++hashed}`);
    assert.equal(ids.idIfZero(Buffer.alloc(100)), 'id-100-1');
    assert.equal(ids.idIfZero(Buffer.alloc(100)), 'id-100-1');
    assert.equal(ids.idIfZero(Buffer.alloc(200)), 'id-200-2');
    assert.equal(ids.idIfZero(Buffer.from([0, 0, 1, 0])), undefined);
    assert.equal(hashed, 2);
  });

  it('leaves out exactly the all-zero file blocks, aligned to the file, and loses no byte', () => {
    const data = Buffer.concat([randomBytes(100), Buffer.alloc(3 * HOLE_BLOCK), randomBytes(10), Buffer.alloc(HOLE_BLOCK + 5)]);
    for (const offset of [0, 1, 100, HOLE_BLOCK - 100, 5 * HOLE_BLOCK]) {
      assert.deepEqual(written(data, offset), data, `at ${offset}`);
      const runs = nonZeroRuns(data, offset);
      // Every gap is a whole number of zero bytes, and every run's inner edges are on file blocks.
      for (const [start, end] of runs) {
        if (start > 0) assert.equal((offset + start) % HOLE_BLOCK, 0);
        if (end < data.length) assert.equal((offset + end) % HOLE_BLOCK, 0);
      }
      const skipped = data.length - runs.reduce((n, [s, e]) => n + e - s, 0);
      assert.ok(skipped >= 2 * HOLE_BLOCK, `at ${offset}: ${skipped} bytes left as holes`);
    }
    assert.deepEqual(nonZeroRuns(Buffer.alloc(3 * HOLE_BLOCK), 7), []);
    assert.deepEqual(nonZeroRuns(Buffer.from([0, 0, 9]), 0), [[0, 3]]);
  });
});
