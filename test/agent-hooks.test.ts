import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { cli, cliAsync, json } from './cli-harness.js';
import { ownerConsoleGet, setUpAgent } from './service-harness.js';

/** A job as the console's job detail reads it. */
const consoleJob = (s: Parameters<typeof ownerConsoleGet>[0], jobId: string) => ownerConsoleGet(s, `backup-jobs/${jobId}`);

describe('hooks on agent protect', () => {
  it('run around each backup-now; a failing post hook completes with warnings, a failing pre hook fails the job and still runs the post hook', async (t) => {
    const s = await setUpAgent(t);
    const log = join(s.dir, 'hooks.log');
    const made = join(s.data, 'made-by-pre-hook');
    // The pre hook writes a file the backup must contain: it ran before the walk.
    const protect = cli(['agent', 'protect', s.data, '--pre-hook', `echo quiesced > ${made}; echo pre >> ${log}`, '--post-hook', `echo post >> ${log}`], s.env);
    assert.equal(protect.code, 0, protect.stderr);
    assert.match(protect.stdout, /^post hook: echo post/m);

    const ok = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(ok.state, 'Completed');
    assert.equal(ok.hooks.pre.exitCode, 0);
    assert.equal(ok.hooks.post.exitCode, 0);
    assert.equal(await readFile(log, 'utf8'), 'pre\npost\n');
    const target = join(s.dir, 'restore');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', target], s.env).code, 0);
    assert.equal(await readFile(join(target, made), 'utf8'), 'quiesced\n');
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);

    // Changes only the post hook: the pre hook stays.
    const onlyPost = cli(['agent', 'protect', '--post-hook', 'echo cannot thaw >&2; exit 5'], s.env);
    assert.match(onlyPost.stdout, /^changed: post hook$/m);
    assert.match(onlyPost.stdout, /^pre hook: echo quiesced/m);
    const warned = cli(['agent', 'backup-now', '--json'], s.env);
    assert.equal(warned.code, 3, warned.stderr);
    const job = JSON.parse(warned.stdout);
    assert.equal(job.state, 'CompletedWithWarnings');
    assert.equal(job.hooks.pre.exitCode, 0);
    assert.equal(job.hooks.post.exitCode, 5);
    assert.match(job.hooks.post.output, /cannot thaw/);
    assert.equal(json(cli(['agent', 'status', '--json'], s.env)).recoveryPoints.length, 2, 'the backup is kept');
    // The vault's job record has both hooks, as the console's job detail reads it.
    const record = await consoleJob(s, job.id);
    assert.equal(record.state, 'CompletedWithWarnings');
    assert.deepEqual(
      { pre: record.hooks.pre.exitCode, post: record.hooks.post.exitCode, postSignal: record.hooks.post.signal },
      { pre: 0, post: 5, postSignal: null },
    );
    assert.equal(record.hooks.post.command, 'echo cannot thaw >&2; exit 5');
    assert.equal(record.hooks.post.output, 'cannot thaw\n');
    assert.ok(Number.isInteger(record.hooks.post.durationMs));

    await rm(log, { force: true });
    assert.equal(cli(['agent', 'protect', '--pre-hook', 'echo database busy >&2; exit 9', '--post-hook', `echo post >> ${log}`], s.env).code, 0);
    const failed = cli(['agent', 'backup-now'], s.env);
    assert.equal(failed.code, 1);
    assert.deepEqual(
      failed.stderr.split('\n').filter((l) => l.startsWith('driveseed:')),
      ['driveseed: pre hook "echo database busy >&2; exit 9" exited with status 9: database busy; no backup was made'],
    );
    assert.equal(await readFile(log, 'utf8'), 'post\n', 'the post hook ran after the failed pre hook');
    const status = json(cli(['agent', 'status', '--json'], s.env));
    assert.equal(status.recoveryPoints.length, 2, 'no recovery point from the failed run');
    assert.equal(status.jobs[0].state, 'Failed');
    assert.match(status.jobs[0].error, /pre hook .* exited with status 9/);
    // A failed job's record has its hooks too: the pre hook's error and the post hook that still ran.
    const failedRecord = await consoleJob(s, status.jobs[0].id);
    assert.equal(failedRecord.hooks.pre.exitCode, 9);
    assert.equal(failedRecord.hooks.pre.output, 'database busy\n');
    assert.equal(failedRecord.hooks.post.exitCode, 0);

    // --no-pre-hook and --no-post-hook remove them.
    assert.equal(cli(['agent', 'protect', '--no-pre-hook', '--no-post-hook'], s.env).code, 0);
    const policy = json(cli(['agent', 'policy', '--json'], s.env));
    assert.equal(policy.preHook, undefined);
    assert.equal(policy.postHook, undefined);
    await writeFile(log, '');
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
    assert.equal(await readFile(log, 'utf8'), '');
    assert.ok(existsSync(made));
  });

  it('runs the post hook owed by an agent killed with kill -9 between its hooks: as agent run starts, and first in the next backup-now', async (t) => {
    const s = await setUpAgent(t);
    const log = join(s.dir, 'hooks.log');
    const lines = async () => (await readFile(log, 'utf8')).trim().split('\n');
    // The pre hook freezes, then SIGKILLs the agent that runs it ($PPID): killed between its
    // pre and post hook, every time, with no timing involved.
    const freezeAndKill = (n: number) => ['--pre-hook', `echo freeze${n} >> ${log}; kill -9 $PPID`, '--post-hook', `echo thaw${n} >> ${log}`];
    assert.equal(cli(['agent', 'protect', s.data, ...freezeAndKill(1), '--schedule', '0 0 1 1 *'], s.env).code, 0);
    const killed = cli(['agent', 'backup-now'], s.env);
    assert.equal(killed.code, -1, 'killed by a signal');
    assert.deepEqual(await lines(), ['freeze1']);

    // agent run thaws at its start, before any scheduled backup.
    const run = cliAsync(['agent', 'run'], s.env);
    t.after(() => run.kill());
    let out = '';
    await new Promise<void>((resolve, reject) => {
      run.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('scheduler running')) resolve();
      });
      run.once('close', () => reject(new Error(`agent run ended: ${out}`)));
    });
    run.kill();
    assert.match(out, /^ran the post hook owed by a run interrupted at \S+: "echo thaw1 >> .*" exited 0$/m);
    assert.deepEqual(await lines(), ['freeze1', 'thaw1']);

    // Killed again; then the policy changes: the next backup-now first runs the post hook that
    // was owed (the one recorded, which undoes the pre hook that ran), then its own hooks.
    assert.equal(cli(['agent', 'protect', ...freezeAndKill(2)], s.env).code, 0);
    assert.equal(cli(['agent', 'backup-now'], s.env).code, -1);
    assert.equal(cli(['agent', 'protect', '--pre-hook', `echo freeze3 >> ${log}`, '--post-hook', `echo thaw3 >> ${log}`], s.env).code, 0);
    const next = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(next.state, 'Completed');
    assert.equal(next.hooks.owed.length, 1);
    assert.equal(next.hooks.owed[0].command, `echo thaw2 >> ${log}`);
    assert.equal(next.hooks.owed[0].exitCode, 0);
    assert.deepEqual(await lines(), ['freeze1', 'thaw1', 'freeze2', 'thaw2', 'freeze3', 'thaw3']);
    const record = await consoleJob(s, next.id);
    assert.deepEqual(
      [...record.hooks.owed, record.hooks.pre, record.hooks.post].map((h: { command: string; exitCode: number }) => [h.command, h.exitCode]),
      [
        [`echo thaw2 >> ${log}`, 0],
        [`echo freeze3 >> ${log}`, 0],
        [`echo thaw3 >> ${log}`, 0],
      ],
    );
    const jobs = json(cli(['agent', 'status', '--json'], s.env)).jobs as { state: string; error?: string }[];
    assert.deepEqual(
      jobs.map((j) => j.state),
      ['Completed', 'Failed', 'Failed'],
      'the killed runs were closed Failed',
    );

    // Nothing is owed any more: a run runs its own hooks alone.
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.hooks.owed, undefined);
    assert.deepEqual((await lines()).slice(-2), ['freeze3', 'thaw3']);
  });
});
