import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceClient } from '../src/api/service-client.js';
import { cli, cliAsync, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS } from './service-harness.js';

/** Random files a throttled backup takes many seconds to send. */
const slowData = async (dir: string) => {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < 4; i++) await writeFile(join(dir, `part${i}`), randomBytes(8 * 1024 * 1024));
};

type Agent = Awaited<ReturnType<typeof setUpAgent>>;
const jobs = (s: Agent) =>
  json(cli(['agent', 'status', '--json'], s.env)).jobs as { id: string; state: string; error?: string; message?: string; snapshotId?: string }[];

/** A backup-now in the background, once its job is InProgress in the vault. */
async function runningBackup(s: Agent) {
  const child = cliAsync(['agent', 'backup-now'], s.env);
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && jobs(s)[0]?.state !== 'InProgress') await sleep(100);
  assert.equal(jobs(s)[0]?.state, 'InProgress', 'the backup started');
  return { child, exited, stderr: () => stderr };
}

describe('backup jobs always end', () => {
  it('Ctrl-C or SIGTERM during backup-now ends its job Failed, at once', async (t) => {
    const s = await setUpAgent(t, { data: slowData });
    assert.equal(cli(['agent', 'protect', s.data, '--limit-upload', '2M'], s.env).code, 0);
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const run = await runningBackup(s);
      const started = Date.now();
      run.child.kill(signal);
      assert.equal(await run.exited, code, run.stderr());
      assert.ok(Date.now() - started < 6000, 'it exits within seconds');
      assert.match(run.stderr(), new RegExp(`interrupted \\(${signal}\\); marking backup job [0-9a-f]{8} Failed`));
      const [job] = jobs(s);
      assert.equal(job.state, 'Failed');
      assert.match(job.error!, new RegExp(`interrupted by ${signal}`));
    }
  });

  it('kill -9: the next run closes the job; with no next run, the service does once heartbeats stop', async (t) => {
    const s = await setUpAgent(t, { data: slowData, extra: ['--job-timeout', '3'] });
    assert.equal(cli(['agent', 'protect', s.data, '--limit-upload', '2M'], s.env).code, 0);
    const first = await runningBackup(s);
    first.child.kill('SIGKILL');
    await first.exited;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && jobs(s)[0].state === 'InProgress') await sleep(250);
    const [closed] = jobs(s);
    assert.equal(closed.state, 'Failed');
    assert.match(closed.error!, /^no heartbeat from the agent for 3 s: closed by the service/);

    // A job whose agent keeps sending heartbeats stays open past the timeout; and an agent that
    // was only cut off may still finish the job the service closed.
    const owner = new ServiceClient(s.url, { ownerKey: s.bootstrap.ownerKey });
    const server = { subscriptionId: s.bootstrap.subscriptionId, vaultName: 'main', serverId: s.registered.id };
    const live = await owner.request('startJob', { params: server, body: { kind: 'online' } });
    for (let i = 0; i < 10; i++) {
      await owner.request('heartbeat', { params: { ...server, jobId: live.id } });
      await sleep(500);
    }
    assert.equal(jobs(s).find((j) => j.id === live.id)!.state, 'InProgress', 'heartbeats keep it open');
    const late = await owner.request('finishJob', {
      params: { ...server, jobId: closed.id },
      body: { state: 'Failed', filesNew: 0, filesChanged: 0, filesUnchanged: 0, bytesRead: 0, bytesSent: 0, warnings: 0, error: 'the late agent' },
    });
    assert.equal(late.error, 'the late agent');
    await assert.rejects(owner.request('heartbeat', { params: { ...server, jobId: closed.id } }), /has ended already \(Failed\)/);

    // The service's timeout is long here; the next run finds the dead one's record.
    const long = await setUpAgent(t, { data: slowData });
    assert.equal(cli(['agent', 'protect', long.data, '--limit-upload', '2M'], long.env).code, 0);
    const killed = await runningBackup(long);
    const killedJob = jobs(long)[0].id;
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.equal(jobs(long)[0].state, 'InProgress', 'nobody has told the service yet');
    assert.equal(cli(['agent', 'protect', '--limit-upload', 'off'], long.env).code, 0);
    const next = json(cli(['agent', 'backup-now', '--json'], long.env));
    assert.equal(next.state, 'Completed');
    const dead = jobs(long).find((j) => j.id === killedJob)!;
    assert.equal(dead.state, 'Failed');
    assert.match(dead.error!, /^the agent \(pid \d+\) stopped before the job ended; closed by its next run$/);
  });

  it('Waiting jobs become Completed (their snapshot restorable) or Superseded when the seed lands', async (t) => {
    const s = await setUpAgent(t, { extra: ['--no-import-worker'] });
    const staging = join(s.dir, 'staging');
    const job = 'seed-jobs';
    const offline = ['--offline', '--staging', staging, '--job', job, '--storage-account', 'seedacct', '--container', 'seeds'];
    assert.equal(cli(['agent', 'protect', s.data, ...offline], s.env).code, 0);
    const staged = json(cli(['agent', 'backup-now', '--json'], s.env));
    const note = join(s.data, 'dir2', 'sub2', 'file2.txt');
    await appendFile(note, 'written while the drives travel\n');
    const inTransitContent = await readFile(note);
    const inTransit = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.deepEqual([staged.state, inTransit.state], ['Waiting', 'Waiting']);
    // A Waiting job of an older agent, which named no snapshot.
    const owner = new ServiceClient(s.url, { ownerKey: s.bootstrap.ownerKey });
    const server = { subscriptionId: s.bootstrap.subscriptionId, vaultName: 'main', serverId: s.registered.id };
    const older = await owner.request('startJob', { params: server, body: { kind: 'online' } });
    const counts = { filesNew: 0, filesChanged: 0, filesUnchanged: 0, bytesRead: 0, bytesSent: 0, warnings: 0 };
    await owner.request('finishJob', { params: { ...server, jobId: older.id }, body: { state: 'Waiting', ...counts, message: 'waiting' } });

    const drive = join(s.dir, 'drive1');
    await mkdir(drive);
    const prep = cli(['diskprep', '--staging', staging, '--publish-settings', s.settings, '--job', job, '--drive', drive, '--yes'], s.env);
    assert.equal(prep.code, 0, prep.stderr);
    const shipping = ['diskprep', '--update-shipping', '--staging', staging, '--publish-settings', s.settings, '--job', job, '--tracking', 'TRACK-7001'];
    assert.equal(cli([...shipping, ...SHIPPING_FLAGS, '--yes'], s.env).code, 0);
    assert.equal(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', job, '--drive', drive]).code, 0);
    const landed = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(landed.seed.job.state, 'Completed');

    const after = jobs(s);
    const byId = (id: string) => after.find((j) => j.id === id)!;
    assert.equal(byId(staged.id).state, 'Completed');
    assert.equal(byId(inTransit.id).state, 'Completed');
    assert.match(byId(inTransit.id).message!, new RegExp(`restorable since the seed of import job ${job} landed`));
    assert.equal(byId(older.id).state, 'Superseded');
    assert.equal(after.filter((j) => j.state === 'Waiting').length, 0, 'no job waits forever');
    const points = json(cli(['agent', 'recovery-points', '--json'], s.env)).recoveryPoints.map((p: { id: string }) => p.id);
    assert.ok(points.includes(byId(inTransit.id).snapshotId), 'the in-transit backup is a recovery point');
    const target = join(s.dir, 'in-transit');
    const r = cli(['agent', 'restore', byId(inTransit.id).snapshotId!.slice(0, 12), '--include', note, '--target', target], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(join(target, note)), inTransitContent);
  });
});
