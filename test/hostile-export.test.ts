import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { isDriveseedError } from '../src/core/errors.js';
import { assertOneLine, startHostileSetting, type Tenant } from './hostile-service-harness.js';

const serverOf = (tenant: Tenant) => ({ subscriptionId: tenant.subscriptionId, vaultName: 'main', serverId: tenant.serverId });

/** A recovery point of the tenant's server as the vault records it (what an export job is asked of). */
async function recoveryPoint(tenant: Tenant): Promise<string> {
  const params = serverOf(tenant);
  const job = await tenant.client.request('startJob', { params, body: { kind: 'online' } });
  const snapshotId = randomBytes(32).toString('hex');
  await tenant.client.request('finishJob', {
    params: { ...params, jobId: job.id },
    body: {
      state: 'Completed',
      filesNew: 1,
      filesChanged: 0,
      filesUnchanged: 0,
      bytesRead: 1,
      bytesSent: 1,
      warnings: 0,
      recoveryPoint: { snapshotId, time: new Date().toISOString(), totalBytes: 1, files: 1 },
    },
  });
  return snapshotId;
}

const refusedWith = (code: string, message: RegExp, dataDir: string) => (e: unknown) => {
  assert.ok(isDriveseedError(e), String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  assertOneLine(e.message, dataDir);
  return true;
};

describe('hostile tenants: an export job carries only packs of its own server', () => {
  it("naming another tenant's pack, a path, or another tenant's server is refused in one line, and no job is made", async (t) => {
    const { victim, attacker, dataDir, health } = await startHostileSetting(t);
    const secret = randomBytes(5000);
    const id = createHash('sha256').update(secret).digest('hex');
    const victimPack = `data/${id.slice(0, 2)}/${id}`;
    const put = await fetch(victim.blobUrl(victimPack), {
      method: 'PUT',
      headers: { ...victim.headers, 'content-type': 'application/octet-stream' },
      body: secret,
    });
    assert.equal(put.status, 204);
    const snapshotId = await recoveryPoint(attacker);
    const ask = (packs: string[], params = serverOf(attacker)) =>
      attacker.client.request('createExportJob', { params, body: { name: 'steal', snapshotId, packs } });

    await assert.rejects(
      ask([victimPack]),
      refusedWith('NOT_FOUND', /^.*pack data\/[0-9a-f]{2}\/[0-9a-f]{64} is not in server attacker's repository/, dataDir),
    );
    for (const name of ['../../../victim/config', `data/${id.slice(0, 2)}/../../${id}`, 'config', 'keys/x', `/data/${id.slice(0, 2)}/${id}`])
      await assert.rejects(ask([name]), refusedWith('USAGE', /is not a pack name/, dataDir));
    // The victim's server, named under the attacker's subscription or under the victim's.
    await assert.rejects(ask([victimPack], { ...serverOf(attacker), serverId: victim.serverId }), refusedWith('NOT_FOUND', /no server/, dataDir));
    await assert.rejects(ask([victimPack], serverOf(victim)), (e: unknown) => isDriveseedError(e) && e.code === 'FORBIDDEN');
    // A point the server does not have.
    await assert.rejects(
      attacker.client.request('createExportJob', { params: serverOf(attacker), body: { name: 'steal', snapshotId: 'a'.repeat(64), packs: [] } }),
      refusedWith('NOT_FOUND', /has no recovery point/, dataDir),
    );
    const jobs = await attacker.client.request('listExportJobs', { params: { subscriptionId: attacker.subscriptionId } });
    assert.deepEqual(jobs.jobs, [], 'nothing was made');
    assert.equal(await health(), 200);
  });
});
