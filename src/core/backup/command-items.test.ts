import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dedupWarning } from './command-items.js';

describe('commands known to defeat dedup', () => {
  it('warns of compressed dumps and compressing pipes, and of nothing else', () => {
    for (const command of [
      'pg_dump -Fc sales',
      'pg_dump --format=custom sales',
      'pg_dump -Fd -f x sales',
      'pg_dump -Z6 sales',
      'pg_dump --compress=9 sales',
      'mysqldump shop | gzip',
      'pg_dumpall|zstd -3',
    ])
      assert.ok(dedupWarning(command), command);
    for (const command of [
      'pg_dump sales',
      'pg_dump -Fp sales',
      'pg_dump -Fc -Z0 sales',
      'pg_dump -Fc --compress=none sales',
      'pg_dump -Ft sales',
      'mysqldump shop',
      'cat /srv/gzip-notes.txt',
    ])
      assert.equal(dedupWarning(command), undefined, command);
  });
});
