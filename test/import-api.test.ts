import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceClient } from '../src/api/service-client.js';
import { isDriveseedError } from '../src/core/errors.js';
import { startService, type RunningService } from '../src/service/start-service.js';
import { shippingDetails } from './service-harness.js';

const shipping = (trackingNumber: string) => shippingDetails(trackingNumber, 'PostNL');

describe('import jobs over HTTP', () => {
  let service: RunningService;
  let dir: string;
  let owner: ServiceClient;
  let subscriptionId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'import-api-'));
    service = await startService({ dataDir: dir, listen: '127.0.0.1:0' });
    owner = new ServiceClient(service.url, { ownerKey: service.bootstrap!.ownerKey });
    subscriptionId = service.bootstrap!.subscriptionId;
    await owner.request('ensureStorageAccount', { params: { subscriptionId, account: 'seedacct' } });
  });
  after(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const drive = () => ({ driveId: randomUUID(), key: Buffer.alloc(32, 7).toString('base64'), manifestSha256: 'a'.repeat(64), files: 5, bytes: 1234 });
  const create = (name: string) =>
    owner.request('createImportJob', { params: { subscriptionId }, body: { name, storageAccount: 'seedacct', container: 'seed-data', drives: [drive()] } });
  const named = (jobName: string) => ({ subscriptionId, jobName });

  it('creates a job, shows its deadline and the shipping address, takes shipping details', async () => {
    const job = await create('first-seed');
    assert.equal(job.state, 'Creating');
    assert.match(job.deadline!.what, /shipping details/);
    assert.ok(job.shippingAddress);
    assert.equal(JSON.stringify(job).includes(Buffer.alloc(32, 7).toString('base64')), false, 'drive keys are never served back');
    const shipped = await owner.request('setShipping', { params: named('first-seed'), body: shipping('PNL-0001') });
    assert.equal(shipped.state, 'Shipping');
    assert.match(shipped.deadline!.what, /drives must arrive/);
  });

  it('refuses a tracking number used by another job with 409 naming the field', async () => {
    await create('second-seed');
    await assert.rejects(
      owner.request('setShipping', { params: named('second-seed'), body: shipping('PNL-0001') }),
      (e) => isDriveseedError(e, 'CONFLICT') && /trackingNumber/.test((e as Error).message),
    );
    const job = await owner.request('getImportJob', { params: named('second-seed') });
    assert.equal(job.state, 'Creating');
  });

  it('validates names and shipping fields with 400 naming the field', async () => {
    await assert.rejects(create('Not Valid'), (e) => isDriveseedError(e, 'USAGE') && /name/.test((e as Error).message));
    await assert.rejects(
      owner.request('setShipping', { params: named('second-seed'), body: { ...shipping('PNL-0002'), email: 'not-an-email' } }),
      (e) => isDriveseedError(e, 'USAGE') && /email/.test((e as Error).message),
    );
  });

  it("cancels only in Creating, lists jobs, and hides other subscriptions' jobs", async () => {
    const canceled = await owner.request('cancelImportJob', { params: named('second-seed') });
    assert.equal(canceled.state, 'Canceled');
    await assert.rejects(owner.request('cancelImportJob', { params: named('first-seed') }), (e) => isDriveseedError(e, 'CONFLICT'));
    const list = await owner.request('listImportJobs', { params: { subscriptionId } });
    assert.deepEqual(list.jobs.map((j) => j.name).sort(), ['first-seed', 'second-seed']);
    const response = await fetch(`${service.url}/v1/subscriptions/${randomUUID()}/import-jobs`, {
      headers: { authorization: `OwnerKey ${service.bootstrap!.ownerKey}` },
    });
    assert.equal(response.status, 403);
  });
});
