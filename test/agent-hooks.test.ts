import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { cli, json } from './cli-harness.js';
import { setUpAgent } from './service-harness.js';

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
});
