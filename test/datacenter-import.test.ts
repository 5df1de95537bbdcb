import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceClient } from '../src/api/service-client.js';
import { backup } from '../src/core/backup/archiver.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { Repository } from '../src/core/repo/repository.js';
import { listStaged, prepareDrives } from '../src/core/envelope/drive-writer.js';
import { startService } from '../src/service/start-service.js';
import { FsStore } from '../src/core/storage/fs/fs-store.js';
import { BIN, cli, json, PASSWORD, tempDir } from './cli-harness.js';
import { tamperDrive, shippingDetails } from './service-harness.js';

/** A service whose subscription has the storage account seedacct; its owner's client, and the data dir the CLI works on. */
async function serviceWithAccount(t: any) {
  const dir = await tempDir(t);
  const dataDir = join(dir, 'service');
  // The test's own CLI runs the import; a worker in this process would compete with it while spawnSync blocks.
  const service = await startService({ dataDir, listen: '127.0.0.1:0', importWorker: false });
  t.after(() => service.stop());
  const owner = new ServiceClient(service.url, { ownerKey: service.bootstrap!.ownerKey });
  const subscriptionId = service.bootstrap!.subscriptionId;
  await owner.request('ensureStorageAccount', { params: { subscriptionId, account: 'seedacct' } });
  const importJob = (name: string) => owner.request('getImportJob', { params: { subscriptionId, jobName: name } });
  return { dir, dataDir, owner, subscriptionId, importJob };
}

/** A service, a staged first backup on two drives, and an import job registered and shipped. */
async function shippedJob(t: any, jobName: string, tracking: string) {
  const { dir, dataDir, owner, subscriptionId, importJob } = await serviceWithAccount(t);
  const data = join(dir, 'data');
  await writeSampleTree(data, 8, 60);
  const staging = new FsStore(join(dir, 'staging'));
  await backup(await Repository.init(staging, PASSWORD), { paths: [data] });
  const drives = [join(dir, 'drive1'), join(dir, 'drive2')];
  for (const d of drives) await mkdir(d);
  // The first drive takes the config and the first data pack (with the writer's 1 MiB reserve and room for the
  // seals), the second the rest: so both drives carry data. With 6 MiB each the whole seed fit on the first, and the
  // second joined the job empty (issue 18), which the writer no longer does.
  // The slack is smaller than any other pack (a tree pack can be 10 KB): with 64 KiB, when the first pack was
  // the large data pack the small one fitted beside it, and the seed fit on one drive again (random pack ids).
  const [config, firstPack] = (await listStaged(staging)).filter((f) => f.name === 'config' || f.name.startsWith('data/'));
  const capacities = [1024 * 1024 + config.size + firstPack.size + 4 * 1024, 64 * 1024 * 1024];
  const prepared = await prepareDrives({
    staging,
    jobName,
    drives: drives.map((path, i) => ({ path, capacity: capacities[i] })),
    stateDir: join(dir, 'state'),
  });
  assert.equal(prepared.remainingFiles, 0);
  assert.equal(prepared.drives.length, 2);
  const drivesOfJob = prepared.drives.map(({ driveId, key, manifestSha256, files, bytes }) => ({ driveId, key, manifestSha256, files, bytes }));
  await owner.request('createImportJob', {
    params: { subscriptionId },
    body: { name: jobName, storageAccount: 'seedacct', container: 'seed-data', drives: drivesOfJob },
  });
  await owner.request('setShipping', { params: { subscriptionId, jobName }, body: shippingDetails(tracking) });
  return { dir, dataDir, owner, subscriptionId, importJob, drives, data, container: join(dataDir, 'blobs', 'accounts', 'seedacct', 'containers', 'seed-data') };
}

describe('data-centre import', () => {
  it('receives and imports every drive; the container holds the staged repository, verified', async (t) => {
    const s = await shippedJob(t, 'seed-ok', 'TRK-OK-1');
    const r = json(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', 'seed-ok', '--drive', ...s.drives, '--json']));
    assert.deepEqual(
      r.drives.map((d: any) => d.state),
      ['Completed', 'Completed'],
    );
    const job = await s.importJob('seed-ok');
    assert.equal(job.state, 'Packaging');
    const check = cli(['check', '--repo', s.container, '--read-data']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const target = join(s.dir, 'restore');
    assert.equal(cli(['restore', '--repo', s.container, 'latest', '--target', target]).code, 0);
    const jobs = json(cli(['datacenter', 'jobs', '--data-dir', s.dataDir, '--json']));
    assert.equal(jobs.jobs[0].name, 'seed-ok');
    const shipped = cli(['datacenter', 'ship-back', '--data-dir', s.dataDir, '--job', 'seed-ok']);
    assert.match(shipped.stdout, /the job is Completed/);
    const done = await s.importJob('seed-ok');
    assert.deepEqual(
      done.drives.map((d) => d.state),
      ['ShippedBack', 'ShippedBack'],
    );
  });

  it('a tampered drive ends CompletedMoreInfo; its error log names file and block', async (t) => {
    const s = await shippedJob(t, 'seed-bad', 'TRK-BAD-1');
    await tamperDrive(s.drives[0]);
    const r = json(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', 'seed-bad', '--drive', ...s.drives, '--json']));
    assert.deepEqual(
      r.drives.map((d: any) => d.state),
      ['CompletedMoreInfo', 'Completed'],
    );
    const job = await s.importJob('seed-bad');
    const bad = job.drives.find((d) => d.state === 'CompletedMoreInfo')!;
    const logs = await s.owner.request('driveLogs', { params: { subscriptionId: s.subscriptionId, jobName: 'seed-bad', driveId: bad.driveId } });
    assert.match(logs.errorLog, /^data\/[0-9a-f]{2}\/[0-9a-f]{64} block 0: block does not decrypt/m);
    const shipped = cli(['datacenter', 'ship-back', '--data-dir', s.dataDir, '--job', 'seed-bad']);
    assert.match(shipped.stdout, /the job is Closed/);
  });

  it('a drive of another job is refused in one line and changes nothing', async (t) => {
    const a = await shippedJob(t, 'seed-a', 'TRK-A-1');
    const b = await shippedJob(t, 'seed-b', 'TRK-B-1');
    const r = cli(['datacenter', 'receive', '--data-dir', a.dataDir, '--job', 'seed-a', '--drive', b.drives[0]]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /belongs to another import job/);
    const job = await a.importJob('seed-a');
    assert.equal(job.state, 'Shipping');
  });

  it('a ship-back in the wrong state is refused in one line and changes nothing', async (t) => {
    const s = await serviceWithAccount(t);
    const drive = { driveId: 'drive-1', key: 'k'.repeat(44), manifestSha256: 'a'.repeat(64), files: 1, bytes: 1 };
    await s.owner.request('createImportJob', {
      params: { subscriptionId: s.subscriptionId },
      body: { name: 'seed-early', storageAccount: 'seedacct', container: 'seed-data', drives: [drive] },
    });
    const r = cli(['datacenter', 'ship-back', '--data-dir', s.dataDir, '--job', 'seed-early']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'driveseed: an import job in state Creating cannot become Closed\n');
    assert.equal((await s.importJob('seed-early')).state, 'Creating');
  });

  it('a ship-back while a drive has not arrived names the drive and changes nothing (issue 18)', async (t) => {
    const s = await shippedJob(t, 'seed-half', 'TRK-HALF-1');
    assert.equal(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', 'seed-half', '--drive', s.drives[0]]).code, 0);
    const before = await s.importJob('seed-half');
    const waiting = before.drives.filter((d) => d.state === 'Specified');
    assert.equal(waiting.length, 1, JSON.stringify(before.drives));
    const r = cli(['datacenter', 'ship-back', '--data-dir', s.dataDir, '--job', 'seed-half']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /unexpected error/);
    assert.match(r.stderr, new RegExp(`^driveseed: import job seed-half still waits for drive ${waiting[0].driveId} .*datacenter tick`));
    const after = await s.importJob('seed-half');
    assert.equal(after.state, before.state);
    assert.deepEqual(
      after.drives.map((d) => d.state),
      before.drives.map((d) => d.state),
    );
  });

  it('the operator commands refuse a data directory that holds no service data, and create nothing (issue 18)', async (t) => {
    const dir = await tempDir(t);
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    for (const args of [
      ['datacenter', 'jobs'],
      ['datacenter', 'tick'],
      ['datacenter', 'ship-back', '--job', 'x'],
    ]) {
      // From a directory that is not the service's: the default ./driveseed-data is not there.
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: elsewhere, encoding: 'utf8' });
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^driveseed: no service data in .*elsewhere\/driveseed-data \(pass --data-dir DIR, the directory given to service start, or set DRIVESEED_DATA_DIR\)\n$/,
      );
      assert.deepEqual(await readdir(elsewhere), [], 'nothing created');
    }
    // Through the environment, as a data centre's shell would set it once.
    const s = await serviceWithAccount(t);
    const r = spawnSync(process.execPath, [BIN, 'datacenter', 'jobs'], {
      cwd: elsewhere,
      encoding: 'utf8',
      env: { ...process.env, DRIVESEED_DATA_DIR: s.dataDir },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '0 import jobs\n');
  });
});
