import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { openDatabase } from '../src/service/db/open-database.js';
import { cli, cliAsync, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS } from './service-harness.js';
import { exportableTree } from './export-restore.case.js';

const JOB = 'dr-export';

/** Kills the process with SIGKILL as soon as `ready` holds (polled; no time limit), and waits for it to die. */
async function killWhen(child: ChildProcess, ready: () => Promise<boolean>): Promise<NodeJS.Signals | null> {
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !(await ready())) await sleep(10);
  child.kill('SIGKILL');
  return exited;
}

const entries = async (dir: string): Promise<string[]> => (existsSync(dir) ? readdir(dir, { recursive: true }) : []);

/** A backed-up server with an export job shipped: the setting of each fault below. */
async function exportAsked(t: any) {
  const s = await setUpAgent(t, { data: exportableTree });
  assert.equal(cli(['agent', 'protect', s.data], s.env).code, 0);
  assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
  const asked = json(cli(['agent', 'export', '--job', JOB, ...SHIPPING_FLAGS, '--tracking', 'EXP-7001', '--json'], s.env));
  const dc = (args: string[]) => ['datacenter', ...args, '--data-dir', s.dataDir];
  const drives = [join(s.dir, 'blank-1'), join(s.dir, 'blank-2')];
  for (const d of drives) await mkdir(d);
  return { s, asked, dc, drives };
}

describe('export jobs: faults and hostile drives', () => {
  it('kill -9 during datacenter export and during the restore: each rerun resumes and ends verified, byte for byte', async (t) => {
    const { s, asked, dc, drives } = await exportAsked(t);
    const writing = cliAsync(dc(['export', '--job', JOB, '--drive', ...drives, '--capacity', '30MB']), s.env);
    const signal = await killWhen(writing, async () => (await entries(join(drives[0], 'payload'))).length > 0);
    assert.equal(signal, 'SIGKILL', 'killed in the middle of writing');
    const written = json(cli([...dc(['export', '--job', JOB, '--drive', ...drives, '--capacity', '30MB']), '--json'], s.env));
    assert.equal(written.remainingFiles, 0);
    assert.equal(written.drives.length, 2);
    assert.equal(written.job.state, 'Packaging');
    assert.deepEqual(
      written.job.drives.map((d: { state: string }) => d.state),
      ['Completed', 'Completed'],
    );
    // Running it again once done changes nothing and writes nothing.
    const rerun = cli(dc(['export', '--job', JOB, '--drive', ...drives]), s.env);
    assert.equal(rerun.code, 1);
    assert.match(rerun.stderr, /^driveseed: export job dr-export is Packaging: its drives are written already\n/);

    const target = join(s.dir, 'restored');
    const workDir = join(s.dir, 'work');
    const restoreArgs = ['agent', 'restore', 'latest', '--from-drive', ...drives, '--target', target, '--work-dir', workDir];
    const restoring = cliAsync(restoreArgs, s.env);
    const killed = await killWhen(restoring, async () => (await entries(join(workDir, 'data'))).length > 1);
    assert.equal(killed, 'SIGKILL', 'killed in the middle of the restore');
    const restored = json(cli([...restoreArgs, '--json'], s.env));
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
    assert.equal(restored.overNetwork.files, 0, 'the drives were whole: nothing over the network');
    assert.equal(restored.fromDrives.files, asked.files);
    assert.equal(existsSync(workDir), false, 'the gathered copy is removed once the restore is done');
  });

  it('a drive of another export job, a wrong drive key and a drive missing from the package: each named in one line, healed from the vault', async (t) => {
    const { s, dc, drives } = await exportAsked(t);
    const written = json(cli([...dc(['export', '--job', JOB, '--drive', ...drives, '--capacity', '30MB']), '--json'], s.env));
    assert.equal(written.drives.length, 2);
    const other = join(s.dir, 'other-job');
    await mkdir(other);
    json(cli(['agent', 'export', '--job', 'other-export', ...SHIPPING_FLAGS, '--tracking', 'EXP-7002', '--json'], s.env));
    json(cli([...dc(['export', '--job', 'other-export', '--drive', other]), '--json'], s.env));

    // The second drive stays at home; the other job's drive came in the package instead.
    const target = join(s.dir, 'restored');
    const r = cli(['agent', 'restore', 'latest', '--from-drive', drives[0], other, '--target', target, '--json'], s.env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], new RegExp(`^warning: ${other}: drive [0-9a-f-]{36} belongs to export job other-export, not ${JOB}: passed over$`));
    assert.match(
      lines[1],
      new RegExp(`^warning: ${written.drives[1].driveId}: drive of export job ${JOB} \\(${written.drives[1].driveId}, one of 2\\) was not given$`),
    );
    const restored = JSON.parse(r.stdout);
    assert.equal(restored.overNetwork.files, written.drives[1].files, "the missing drive's files came over the network");
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);

    // The key the service holds for the first drive no longer opens it (a damaged record, a drive
    // rewritten since): the drive is named and everything comes from the vault, if the limit allows.
    const database = await openDatabase(join(s.dataDir, 'driveseed.db'));
    await database.db
      .updateTable('export_drives')
      .set({ drive_key: randomBytes(32).toString('base64') })
      .where('id', '=', written.drives[0].driveId)
      .execute();
    await database.close();
    const again = join(s.dir, 'again');
    const wrongKey = cli(['agent', 'restore', 'latest', '--from-drive', ...drives, '--target', again, '--heal-limit', '100MB', '--json'], s.env);
    assert.equal(wrongKey.code, 0, wrongKey.stderr);
    assert.match(
      wrongKey.stderr,
      new RegExp(`^warning: ${drives[0]}: manifest of drive ${written.drives[0].driveId} does not open: wrong drive key, or the manifest is damaged$`, 'm'),
    );
    assert.equal(JSON.parse(wrongKey.stdout).overNetwork.files, written.drives[0].files);
    assert.deepEqual(await compareTrees(s.data, join(again, s.data)), []);
  });
});
