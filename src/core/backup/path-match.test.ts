import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesPattern, mayMatchBelow } from './path-match.js';

describe('the one matching rule of includes and excludes', () => {
  it('a pattern without a slash matches a name at any depth; one with a slash, the whole path', () => {
    assert.equal(matchesPattern('/srv/data/logs/deep/b.gz', '*.gz'), true);
    assert.equal(matchesPattern('/srv/data/.env', '*'), true, 'dot files too');
    assert.equal(matchesPattern('/srv/data/node_modules', 'node_modules'), true);
    assert.equal(matchesPattern('/srv/data/logs/a.gz', '/srv/data/logs/*'), true);
    assert.equal(matchesPattern('/srv/other/logs/a.gz', '/srv/data/**'), false);
    assert.equal(matchesPattern('/srv/data/a.gzip', '*.gz'), false);
  });

  it('a directory is walked for an include only where something below it could match', () => {
    assert.equal(mayMatchBelow('/anything/at/all', '*.gz'), true);
    assert.equal(mayMatchBelow('/srv', '/srv/data/**'), true);
    assert.equal(mayMatchBelow('/srv/data', '/srv/data/**'), true);
    assert.equal(mayMatchBelow('/home', '/srv/data/**'), false);
  });
});
