import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesAny, matchesPattern, mayMatchBelow, PathMatcher } from './path-match.js';

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

  it('a compiled matcher decides every path as the rule does, pattern by pattern and for a set', () => {
    const patterns = ['*.gz', '*', 'node_modules', '/srv/data/logs/*', '/srv/data/**', '**/cache', '.env', '/srv/*/x?z', '[ab]*.log'];
    const paths = [
      '/srv/data/logs/deep/b.gz',
      '/srv/data/.env',
      '/srv/data/node_modules',
      '/srv/data/logs/a.gz',
      '/srv/other/logs/a.gz',
      '/srv/data/a.gzip',
      '/home/u/cache',
      '/srv/q/xyz',
      '/var/b1.log',
      '/',
      '/srv',
    ];
    for (const pattern of patterns) {
      const one = new PathMatcher([pattern]);
      for (const path of paths) {
        assert.equal(one.matches(path), matchesPattern(path, pattern), `${pattern} on ${path}`);
        assert.equal(one.mayMatchBelow(path), mayMatchBelow(path, pattern), `${pattern} below ${path}`);
      }
    }
    const all = new PathMatcher(patterns.slice(2, 5));
    for (const path of paths) assert.equal(all.matches(path), matchesAny(path, patterns.slice(2, 5)), path);
    assert.equal(new PathMatcher([]).matches('/srv'), false, 'no pattern matches nothing');
  });
});
