import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coalesce } from './pack-ranges.js';

describe('pack ranges', () => {
  it('reads blobs close together in one pack with one request, and keeps packs apart', () => {
    const ranges = coalesce(
      [
        { pack: 'a', offset: 5000, length: 100, target: 2 },
        { pack: 'a', offset: 0, length: 1000, target: 1 },
        { pack: 'b', offset: 0, length: 10, target: 3 },
        { pack: 'a', offset: 5000, length: 100, target: 4 },
      ],
      8192,
      1 << 20,
    );
    assert.equal(ranges.length, 2);
    assert.deepEqual({ ...ranges[0], blobs: ranges[0].blobs.map((b) => b.target) }, { pack: 'a', offset: 0, length: 5100, blobs: [1, 2, 4] });
    assert.deepEqual(
      ranges[1].blobs.map((b) => b.target),
      [3],
    );
  });

  it('splits where the gap is too wide or the range would grow too long', () => {
    const far = coalesce(
      [
        { pack: 'a', offset: 0, length: 10, target: 1 },
        { pack: 'a', offset: 100_000, length: 10, target: 2 },
      ],
      1000,
      1 << 20,
    );
    assert.equal(far.length, 2);
    const long = coalesce(
      [0, 1, 2, 3].map((i) => ({ pack: 'a', offset: i * 400, length: 400, target: i })),
      1000,
      1000,
    );
    assert.deepEqual(
      long.map((r) => [r.offset, r.length]),
      [
        [0, 800],
        [800, 800],
      ],
    );
  });
});
