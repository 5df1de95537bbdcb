import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileId } from '../src/core/repo/ids.js';
import { packName } from '../src/core/repo/layout.js';
import { AzureStore } from '../src/core/storage/azure/azure-store.js';
import { startAzurite, type Azurite } from '../src/testing/azurite.js';

/* The seed copy on Azure blob storage streams each file through, hashed on the way (issue 15). */

const CHILD = new URL('./seed-copy-peak-rss.js', import.meta.url).pathname;
const MiB = 1024 * 1024;

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(() => azurite?.stop());

function copyInChild(container: string, warmUp: string, name: string): { warmRssKb: number; peakRssKb: number; copied: number | 'damaged' } {
  const r = spawnSync(process.execPath, [CHILD, container, 'accounts/a/containers/c', 'vaults/v/servers/s', warmUp, name], {
    env: { ...process.env, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('seed copy on Azure (Azurite)', () => {
  it('streams a file far larger than its buffers from the container into the vault, in bounded memory; a damaged one leaves nothing', async (t) => {
    const store = AzureStore.fromConnectionString(azurite.connectionString, 'seed-stream');
    const put = async (bytes: Buffer, name = packName(fileId(bytes, 'blake3'))) => {
      await store.put(`accounts/a/containers/c/${name}`, bytes);
      return name;
    };
    const warmUp = await put(randomBytes(64 * 1024));
    // Eight times what a streamed write holds (two 4 MiB blocks), and more than the ceiling below.
    const big = randomBytes(96 * MiB);
    const bigName = await put(big);
    const damagedName = packName(fileId(randomBytes(8), 'blake3'));
    await put(randomBytes(20 * MiB), damagedName);

    const copy = copyInChild('seed-stream', warmUp, bigName);
    const grownMiB = (copy.peakRssKb - copy.warmRssKb) / 1024;
    t.diagnostic(`copying 96 MiB grew the peak RSS by ${grownMiB.toFixed(1)} MiB (from ${(copy.warmRssKb / 1024).toFixed(0)} MiB)`);
    assert.equal(copy.copied, big.length);
    // Read or written whole, the file alone would be 96 MiB more.
    assert.ok(grownMiB < 48, `the copy grew the peak RSS by ${grownMiB.toFixed(1)} MiB`);
    assert.ok((await store.get(`vaults/v/servers/s/${bigName}`)).equals(big));

    const damaged = copyInChild('seed-stream', warmUp, damagedName);
    assert.equal(damaged.copied, 'damaged');
    assert.equal(await store.exists(`vaults/v/servers/s/${damagedName}`), false, 'nothing of a damaged file reaches the vault');
  });
});
