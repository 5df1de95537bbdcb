import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';
import { setUpAgent } from './service-harness.js';

describe('key management: add, list, remove, passwd', () => {
  it('on any repository: a password per key, the one in use and the last one stay', async (t) => {
    const dir = await tempDir(t);
    const repo = join(dir, 'repo');
    const [a, b, c, empty] = ['a', 'b', 'c', 'empty'].map((n) => join(dir, n));
    await writeFile(a, 'password a\n');
    await writeFile(b, 'password b\n');
    await writeFile(c, 'password c\n');
    await writeFile(empty, '');
    const as = (file: string, args: string[]) => cli([...args, '--repo', repo, '--password-file', file], { DRIVESEED_PASSWORD: '' });
    assert.equal(as(a, ['init']).code, 0);
    const [first] = json(as(a, ['key', 'list', '--json']));
    assert.equal(first.current, true);

    assert.match(as(a, ['key', 'add', '--new-password-file', b]).stdout, /^added key [0-9a-f]{8}$/m);
    assert.equal(json(as(b, ['key', 'list', '--json'])).length, 2);
    assert.equal(as(b, ['snapshots']).code, 0, 'the new password opens the repository');
    const refused = as(a, ['key', 'add', '--new-password-file', empty]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /password file .* is empty/);
    assert.equal((await readdir(join(repo, 'keys'))).length, 2, 'an empty password adds no key');

    const inUse = as(a, ['key', 'remove', first.id.slice(0, 8)]);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /is the one this password opened/);

    assert.match(as(b, ['key', 'passwd', '--new-password-file', c]).stdout, /^changed the password: key [0-9a-f]{8} replaced by [0-9a-f]{8}$/m);
    assert.match(as(b, ['snapshots']).stderr, /wrong password/);
    assert.equal(as(c, ['snapshots']).code, 0);
    assert.equal(as(a, ['snapshots']).code, 0, "another password's key is untouched");

    assert.equal(as(c, ['key', 'remove', first.id.slice(0, 8)]).code, 0);
    assert.match(as(a, ['snapshots']).stderr, /wrong password/);
    const [last] = json(as(c, ['key', 'list', '--json']));
    const lastOne = as(c, ['key', 'remove', last.id]);
    assert.equal(lastOne.code, 1);
    assert.match(lastOne.stderr, /is the repository's last key/);
    assert.equal(as(c, ['check', '--read-data']).code, 0);
  });

  it("the vault's repository through the agent: passwd, then only the new password restores", async (t) => {
    const s = await setUpAgent(t);
    cli(['agent', 'protect', s.data], s.env);
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
    assert.equal(json(cli(['key', 'list', '--agent', '--json'], s.env)).length, 1);
    const changed = cli(['key', 'passwd', '--agent'], { ...s.env, DRIVESEED_NEW_PASSWORD: 'a new passphrase' });
    assert.equal(changed.code, 0, changed.stderr);
    const old = cli(['agent', 'restore', 'latest', '--target', join(s.dir, 'r0')], s.env);
    assert.match(old.stderr, /wrong password/);
    const r = cli(['agent', 'restore', 'latest', '--target', join(s.dir, 'r1')], { ...s.env, DRIVESEED_PASSWORD: 'a new passphrase' });
    assert.equal(r.code, 0, r.stderr);
  });
});
