import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { cli, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS, tamperDrive } from './service-harness.js';

const MB = 1024 * 1024;

async function writeRandom(dir: string, megabytes: number, prefix: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < megabytes / 8; i++) await writeFile(join(dir, `${prefix}-${i}.bin`), randomBytes(8 * MB));
}

/** A server seeded on drives (staged, written, shipped, imported, completed), ready for a large change. */
async function seeded(t: any) {
  const s = await setUpAgent(t, { extra: ['--no-import-worker'], data: (dir) => writeRandom(dir, 16, 'seed') });
  const staging = join(s.dir, 'staging');
  const ok = (r: { code: number; stderr: string }) => {
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  ok(cli(['agent', 'protect', s.data, '--offline', '--staging', staging, '--job', 'seed-one', '--storage-account', 'seedacct', '--container', 'seeds'], s.env));
  json(cli(['agent', 'backup-now', '--json'], s.env));
  /** diskprep, shipping and the data centre's import of one staged job, on one drive. */
  const ship = async (job: string, tracking: string, tamper = false) => {
    const drive = join(s.dir, `drive-${job}`);
    await mkdir(drive);
    const args = ['--staging', staging, '--publish-settings', s.settings, '--job', job];
    json(cli(['diskprep', ...args, '--drive', drive, '--capacity', '200MB', '--json'], s.env));
    if (tamper) await tamperDrive(drive);
    ok(cli(['diskprep', '--update-shipping', ...args, '--tracking', tracking, ...SHIPPING_FLAGS, '--yes'], s.env));
    return json(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', job, '--drive', drive, '--json'])).drives[0];
  };
  await ship('seed-one', 'TRACK-1001');
  assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).seed.job.state, 'Completed');
  const restoreMatches = async () => {
    const target = join(s.dir, `restored-${Date.now()}`);
    ok(cli(['agent', 'restore', 'latest', '--target', target], s.env));
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
  };
  const vaultRepository = async () => {
    const vaults = join(s.dataDir, 'blobs', 'vaults');
    const [vaultId] = await readdir(vaults);
    return join(vaults, vaultId, 'servers', s.registered.id);
  };
  const delta = (job: string) => cli(['agent', 'backup-now', '--offline-delta', '--job', job, '--staging', staging, '--json'], s.env);
  return { ...s, staging, ship, restoreMatches, vaultRepository, delta, ok };
}

describe('offline deltas: a large change after the seed goes on drives too', () => {
  it('stages only what the vault lacks as a second import job; backups wait for it, then it completes as a seed and restores byte for byte', async (t) => {
    const s = await seeded(t);
    await writeRandom(join(s.data, 'new-share'), 32, 'big');

    // Ship or upload the change? At 1 kbit/s drives win even a day door to door; at 1 Gbit/s the link does.
    const slow = json(cli(['agent', 'estimate', '--pending', '--bandwidth', '1kbit', '--shipping-days', '1', '--json'], s.env));
    assert.equal(slow.advice, 'offline-delta');
    assert.equal(slow.files, 4);
    assert.ok(slow.bytes >= 32 * MB && slow.bytes < 33 * MB, `the change is the new share: ${slow.bytes} bytes`);
    assert.equal(json(cli(['agent', 'estimate', '--pending', '--bandwidth', '1Gbit', '--json'], s.env)).advice, 'upload');
    const said = cli(['agent', 'estimate', '--pending', '--bandwidth', '1kbit'], s.env);
    assert.match(said.stdout, /assuming 3 days door to door and the change stored uncompressed\n {2}advice: ship it: agent backup-now --offline-delta/);
    // agent status advises at the policy's upload limit, and only when it has one.
    assert.equal(json(cli(['agent', 'status', '--json'], s.env)).deltaAdvice, undefined);
    s.ok(cli(['agent', 'protect', '--limit-upload', '100B'], s.env));
    assert.equal(json(cli(['agent', 'status', '--json'], s.env)).deltaAdvice.advice, 'offline-delta');
    assert.match(
      cli(['agent', 'status'], s.env).stdout,
      /pending change since the last backup .*: 4 files.*\n.*\n.*as an offline delta.*\n {2}advice: ship it/,
    );
    s.ok(cli(['agent', 'protect', '--limit-upload', 'off'], s.env));

    const staged = json(s.delta('delta-one'));
    assert.equal(staged.state, 'Waiting');
    assert.equal(staged.kind, 'offline');
    assert.match(staged.message, /offline delta staged in .*delta-one.*next: `driveseed diskprep --staging .* --job delta-one`/);
    // The vault's index and the parent's trees come over the link; the 32 MiB of new data do not.
    assert.ok(staged.traffic.sent < 0.02 * 32 * MB, `the delta sent ${staged.traffic.sent} bytes`);
    assert.ok(staged.traffic.received < 0.05 * 32 * MB, `the delta received ${staged.traffic.received} bytes`);
    const stagedPacks = await readdir(join(s.staging, 'delta-one', 'repository', 'data'), { recursive: true });
    const vaultPacks = new Set(await readdir(join(await s.vaultRepository(), 'data'), { recursive: true }));
    assert.ok(
      stagedPacks.filter((p) => p.length > 3).every((p) => !vaultPacks.has(p)),
      'the delta holds only packs the vault lacks',
    );

    // One delta at a time, and a backup-now meanwhile waits for it, sending only its own small change.
    assert.match(s.delta('delta-two').stderr, /offline delta delta-one is on its way; one delta at a time/);
    s.ok(cli(['agent', 'protect', '--schedule', '0 2 * * *'], s.env));
    assert.match(cli(['agent', 'status'], s.env).stdout, /offline delta: import job delta-one into seedacct\/seeds, staged in .*; backups wait for it/);
    await appendFile(join(s.data, 'new-share', 'notes.txt'), 'written while the delta travels\n');
    const inTransit = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(inTransit.state, 'Waiting');
    assert.match(inTransit.message, /Waiting for import job to complete \(offline delta: import job delta-one is not created yet/);
    assert.ok(inTransit.traffic.sent < 0.02 * 32 * MB, `sent ${inTransit.traffic.sent} bytes while the delta travels`);

    const drive = await s.ship('delta-one', 'TRACK-2002');
    assert.equal(drive.state, 'Completed');
    // The service knows the delta's job for what it is (the console labels it); the seed's has no kind.
    const jobOf = (job: string) =>
      json(cli(['diskprep', '--status', '--staging', s.staging, '--publish-settings', s.settings, '--job', job, '--json'], s.env)).job;
    assert.equal(jobOf('delta-one').kind, 'delta');
    assert.equal(jobOf('seed-one').kind, undefined);
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.match(after.seed.job.message, /^offline delta of import job delta-one: \d+ files copied in the service, 0 healed over the network/);
    assert.equal(after.seed.healed.files, 0);
    assert.equal(after.kind, 'online');
    assert.ok(after.traffic.sent < 0.02 * 32 * MB, `sent ${after.traffic.sent} bytes after the delta landed`);
    // The jobs that waited for the delta are Completed now, each with its recovery point.
    const status = json(cli(['agent', 'status', '--json'], s.env));
    const points = new Set(status.recoveryPoints.map((p: { id: string }) => p.id));
    for (const waited of [staged, inTransit]) {
      const job = status.jobs.find((j: { id: string }) => j.id === waited.id);
      assert.equal(job.state, 'Completed', JSON.stringify(job));
      assert.ok(points.has(job.snapshotId), `job ${job.id} names a recovery point`);
    }
    await s.restoreMatches();
    s.ok(cli(['check', '--repo', await s.vaultRepository(), '--read-data']));
  });

  it('a flipped byte on the delta drive: the seed completion heals that pack over the network', async (t) => {
    const s = await seeded(t);
    await writeRandom(join(s.data, 'new-share'), 24, 'big');
    json(s.delta('delta-one'));
    assert.equal((await s.ship('delta-one', 'TRACK-3003', true)).state, 'CompletedMoreInfo');
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.equal(after.seed.healed.files, 1, 'exactly the damaged file is sent');
    await s.restoreMatches();
    s.ok(cli(['check', '--repo', await s.vaultRepository(), '--read-data']));
  });
});
