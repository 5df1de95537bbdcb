import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { AzureStore } from '../src/core/storage/azure/azure-store.js';
import { listAll } from '../src/core/storage/blob-store.js';
import { startAzurite, type Azurite } from '../src/testing/azurite.js';
import { cli, json, tempDir } from './cli-harness.js';

describe('repository engine on Azure Blob Storage (Azurite)', () => {
  let azurite: Azurite;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite.stop());

  it('init, backup, restore and check --read-data on azure://CONTAINER', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    await writeSampleTree(data, 9, 40);
    const cache = join(dir, 'cache');
    const env = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, DRIVESEED_CACHE_DIR: cache };
    const repo = 'azure://engine-test';
    assert.equal(cli(['init', '--repo', repo], env).code, 0);
    const first = json(cli(['backup', '--repo', repo, data, '--json'], env));
    assert.equal(first.filesNew, 42);
    const second = json(cli(['backup', '--repo', repo, data, '--json'], env));
    assert.equal(second.bytesRead, 0);
    const target = join(dir, 'out');
    const r = cli(['restore', '--repo', repo, 'latest', '--target', target], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await compareTrees(data, join(target, data)), []);
    const check = cli(['check', '--repo', repo, '--read-data'], env);
    assert.equal(check.code, 0, check.stdout);
    // A remote repository is read through a local metadata cache, one directory per repository id.
    const [repositoryId] = await readdir(cache);
    const cached = await readdir(join(cache, repositoryId), { recursive: true });
    assert.ok(cached.some((f) => f.startsWith('index/')) && cached.some((f) => f.startsWith('snapshots/')), cached.join(' '));
    const uncached = cli(['check', '--repo', repo, '--no-cache'], {
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      DRIVESEED_CACHE_DIR: join(dir, 'unused'),
    });
    assert.equal(uncached.code, 0, uncached.stdout);
    await assert.rejects(readdir(join(dir, 'unused')), { code: 'ENOENT' });

    const store = AzureStore.fromConnectionString(azurite.connectionString, 'engine-test');
    const names = (await listAll(store, '')).map((b) => b.name);
    assert.ok(names.includes('config') && names.some((n) => n.startsWith('data/')));
  });

  it('names a missing connection string and a bad container in one line', () => {
    const missing = cli(['snapshots', '--repo', 'azure://engine-test'], { AZURE_STORAGE_CONNECTION_STRING: '' });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /AZURE_STORAGE_CONNECTION_STRING/);
    const bad = cli(['snapshots', '--repo', 'azure://No_Such'], { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a valid Azure container name/);
  });

  it('a container without a repository is reported as such', () => {
    const r = cli(['snapshots', '--repo', 'azure://empty-container'], { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a driveseed repository/);
  });
});
