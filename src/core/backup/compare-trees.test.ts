import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTrees } from './compare-trees.js';

/** touch sets nanoseconds, which node's utimes cannot. */
function setMtime(path: string, seconds: string): void {
  execFileSync('touch', ['-m', '-d', `@${seconds}`, path]);
}

describe('compareTrees', () => {
  it('compares mtimes to the microsecond, also just before a millisecond, where mtimeMs rounds up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driveseed-compare-'));
    try {
      for (const side of ['a', 'b']) await mkdir(join(dir, side));
      for (const name of ['same', 'later']) {
        await writeFile(join(dir, 'a', name), name);
        await writeFile(join(dir, 'b', name), name);
      }
      // What a restore writes back for 1764627440.123999999: the same microsecond, a different millisecond as a double.
      setMtime(join(dir, 'a', 'same'), '1764627440.123999999');
      setMtime(join(dir, 'b', 'same'), '1764627440.123999500');
      setMtime(join(dir, 'a', 'later'), '1764627440.124000100');
      setMtime(join(dir, 'b', 'later'), '1764627440.123999500');
      for (const side of ['a', 'b']) setMtime(join(dir, side), '1764627440');
      assert.deepEqual(await compareTrees(join(dir, 'a'), join(dir, 'b')), ['later: mtime 1764627440124000100 ns ≠ 1764627440123999500 ns']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
