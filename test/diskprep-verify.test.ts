import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, cliAsync, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS, tamperDrive } from './service-harness.js';

const JOB = 'verify-one';

/** A registered agent whose first backup is staged: random files, so the seed is several packs. */
async function staged(t: any, megabytes: number) {
  const s = await setUpAgent(t, {
    extra: ['--no-import-worker'],
    data: async (dir) => {
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < megabytes / 8; i++) await writeFile(join(dir, `blob-${i}.bin`), randomBytes(8 * 1024 * 1024));
      await writeFile(join(dir, 'note.txt'), 'a small file\n');
    },
  });
  const staging = join(s.dir, 'staging');
  const protect = cli(
    ['agent', 'protect', s.data, '--offline', '--staging', staging, '--job', JOB, '--storage-account', 'seedacct', '--container', 'seeds'],
    s.env,
  );
  assert.equal(protect.code, 0, protect.stderr);
  assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).kind, 'offline');
  const diskprep = (args: string[]) => cli(['diskprep', '--staging', staging, '--publish-settings', s.settings, '--job', JOB, ...args], s.env);
  const registered = () => json(diskprep(['--status', '--json'])).job;
  return { ...s, staging, diskprep, registered };
}

const oneLine = (r: { code: number; stderr: string }, pattern: RegExp) => {
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
};

describe('diskprep reads every drive back before the import job is registered', () => {
  it('a flipped byte is caught by --verify and written again before registration; a clean drive verifies; wrong and missing drives are named', async (t) => {
    const s = await staged(t, 24);
    const [clean, flipped] = [join(s.dir, 'drive1'), join(s.dir, 'drive2')];
    for (const d of [clean, flipped]) await mkdir(d);
    const written = json(s.diskprep(['--write-only', '--drive', clean, flipped, '--capacity', '20MB', '--json']));
    assert.equal(written.job, undefined, 'nothing registered before the read-back');
    assert.equal(written.drives.length, 2, 'the seed spans both drives');
    assert.equal(s.registered(), undefined);

    await tamperDrive(flipped);
    const flippedId = written.drives.find((d: { path: string }) => d.path === flipped).driveId;

    // A drive of another job (a crafted header) and a drive of the job that is not there: one line each, nothing registered.
    const stranger = join(s.dir, 'stranger');
    await mkdir(stranger);
    await writeFile(
      join(stranger, 'driveseed-drive.json'),
      JSON.stringify({ format: 'driveseed-drive', version: 2, driveId: randomUUID(), jobName: 'other-job', createdAt: new Date().toISOString() }),
    );
    oneLine(s.diskprep(['--verify', '--drive', clean, stranger]), /drive .*stranger belongs to import job other-job, not verify-one/);
    const moved = join(s.dir, 'drive2-mounted-elsewhere');
    await rename(flipped, moved);
    oneLine(s.diskprep(['--verify']), new RegExp(`drive ${flippedId} of import job verify-one \\(written at .*drive2\\) is missing`));
    oneLine(s.diskprep(['--verify', '--drive', clean]), new RegExp(`drive ${flippedId} of import job verify-one .* is missing`));
    assert.equal(s.registered(), undefined);

    // Both drives given, one mounted elsewhere now: the flipped block is named with its drive and file, written again, and only then is the job registered.
    const verified = s.diskprep(['--verify', '--drive', clean, moved, '--json']);
    assert.equal(verified.code, 0, verified.stderr);
    const problems = verified.stderr.split('\n').filter((l) => l.includes('does not verify'));
    assert.equal(problems.length, 1, verified.stderr);
    assert.match(
      problems[0],
      new RegExp(`^drive ${flippedId} at .*drive2-mounted-elsewhere: data/[0-9a-f]{2}/[0-9a-f]{64} block 0 does not verify: block does not decrypt`),
    );
    const outcome = JSON.parse(verified.stdout);
    assert.equal(outcome.registeredNow, true);
    const byId = new Map(outcome.verified.map((d: { driveId: string }) => [d.driveId, d]));
    assert.deepEqual((byId.get(flippedId) as { rewritten: string[] }).rewritten.length, 1);
    const cleanDrive = outcome.verified.find((d: { driveId: string }) => d.driveId !== flippedId);
    assert.deepEqual(cleanDrive.rewritten, [], 'the clean drive verifies as written');
    assert.equal(cleanDrive.fromDevice, true, 'ext4 takes O_DIRECT: the read-back came from the drive, not the page cache');
    assert.equal(s.registered().state, 'Creating');

    // A registered job is only checked: clean now, so it passes; a byte flipped after registration is reported, not rewritten.
    const again = json(s.diskprep(['--verify', '--drive', clean, moved, '--json']));
    assert.equal(again.registeredNow, false);
    await tamperDrive(clean);
    const late = s.diskprep(['--verify', '--drive', clean, moved]);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /drive .* at .*drive1: data\/.* block 0 does not verify.*\n.*the import job is registered with this drive as it was written/);

    // The import of the drive that was written again delivers all it lists (the late flip on the other is the import's to find).
    assert.equal(s.diskprep(['--update-shipping', '--tracking', 'TRACK-9001', ...SHIPPING_FLAGS, '--yes']).code, 0);
    const received = json(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', JOB, '--drive', clean, moved, '--json']));
    const states = new Map(received.drives.map((d: { driveId: string; state: string }) => [d.driveId, d.state]));
    assert.equal(states.get(flippedId), 'Completed');
    assert.equal(states.get(cleanDrive.driveId), 'CompletedMoreInfo');
  });

  it('diskprep reads back right after writing; kill -9 during the read-back: the rerun resumes and registers', async (t) => {
    const s = await staged(t, 64);
    const drive = join(s.dir, 'drive.img');
    const state = join(s.staging, JOB, 'diskprep');
    assert.equal(s.diskprep(['--write-only', '--drive', drive, '--capacity', '200MB']).code, 0);
    const killed = cliAsync(['diskprep', '--verify', '--staging', s.staging, '--publish-settings', s.settings, '--job', JOB, '--drive', drive], s.env);
    const exited = new Promise((resolve) => killed.once('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    while (!done && (await verifiedLines(state)) < 1) await sleep(5);
    assert.equal(done, false, 'the read-back finished before it could be killed');
    killed.kill('SIGKILL');
    await exited;
    assert.equal(s.registered(), undefined, 'killed mid read-back: not registered');
    // A plain diskprep rerun goes on with the read-back (the drive is written already) and then registers.
    const rerun = json(s.diskprep(['--drive', drive, '--json']));
    assert.equal(rerun.job.state, 'Creating');
    assert.ok(rerun.verified[0].resumed >= 1, `the rerun went on from the killed read-back: ${JSON.stringify(rerun.verified)}`);
    assert.ok(rerun.verified[0].resumed < rerun.drives[0].files, 'the kill landed mid read-back');
    assert.deepEqual(rerun.verified[0].rewritten, []);
  });
});

async function verifiedLines(dir: string): Promise<number> {
  let lines = 0;
  for (const name of await readdir(dir).catch(() => [] as string[]))
    if (name.endsWith('.verified')) lines += (await readFile(join(dir, name), 'utf8')).split('\n').filter(Boolean).length;
  return lines;
}
