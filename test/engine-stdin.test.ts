import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, cli, json, PASSWORD, tempDir, type CliResult } from './cli-harness.js';

/** The CLI with `input` on its stdin. */
function cliWithInput(args: string[], input: Buffer | string): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD }, input, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** The CLI's stdout as bytes (dump). */
function cliBytes(args: string[]): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD }, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** Text that compresses like a dump but is not one long repeat: lines with a counter and a pseudo-random field. */
function dumpLike(lines: number, seed = 1): Buffer {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(`${i}\t${x.toString(36)}\tcustomer ${x % 9973}\t${(x % 100000) / 100}\n`);
  }
  return Buffer.from(out.join(''));
}

async function newRepo(t: any): Promise<{ dir: string; repo: string }> {
  const dir = await tempDir(t);
  const repo = join(dir, 'repo');
  assert.equal(cli(['init', '--repo', repo]).code, 0);
  return { dir, repo };
}

function snapshotCount(repo: string): number {
  return json(cli(['snapshots', '--repo', repo, '--json'])).length;
}

/** The one line the CLI's error is: exactly one `driveseed:` line on stderr. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('driveseed:'));
}

describe('engine streams: backup --stdin, --stdin-from-command, dump', () => {
  it('stores stdin as one file that dump gives back byte for byte, with the same chunks as a file of the same bytes', async (t) => {
    const { dir, repo } = await newRepo(t);
    const data = dumpLike(400_000); // about 12 MB: many chunks
    const r = json(cliWithInput(['backup', '--repo', repo, '--stdin', '--stdin-filename', 'dumps/sales.sql', '--json'], data));
    assert.equal(r.bytesRead, data.length);
    assert.equal(r.totalFiles, 1);
    const ls = cli(['ls', '--repo', repo, 'latest']);
    assert.deepEqual(ls.stdout.trim().split('\n'), ['/dumps/', '/dumps/sales.sql']);
    const dumped = cliBytes(['dump', '--repo', repo, r.snapshotId.slice(0, 8), '/dumps/sales.sql']);
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.ok(dumped.stdout.equals(data), 'dump gives back the bytes');

    // The same bytes as a file: the archiver's workers cut them exactly as the stream was cut.
    const file = join(dir, 'sales.sql');
    await writeFile(file, data);
    const asFile = json(cli(['backup', '--repo', repo, file, '--json']));
    assert.ok(asFile.bytesAdded < data.length / 100, `a file of the same bytes added ${asFile.bytesAdded} of ${data.length}`);
  });

  it("backs up a command's output; a second dump after a small change adds little", async (t) => {
    const { dir, repo } = await newRepo(t);
    const source = join(dir, 'db.txt');
    const data = dumpLike(400_000);
    await writeFile(source, data);
    const first = json(cli(['backup', '--repo', repo, '--stdin-filename', 'db.sql', '--json', '--stdin-from-command', '--', 'cat', source]));
    assert.equal(first.bytesRead, data.length);
    // A changed row in the middle: the chunks around it are new, the rest is found again.
    const changed = Buffer.concat([data.subarray(0, 6_000_000), Buffer.from('changed row\n'), data.subarray(6_000_000)]);
    await writeFile(source, changed);
    const second = json(cli(['backup', '--repo', repo, '--stdin-filename', 'db.sql', '--json', '--stdin-from-command', '--', 'cat', source]));
    assert.ok(second.bytesAdded < first.bytesAdded / 10, `second added ${second.bytesAdded} against ${first.bytesAdded}`);
    const snaps = json(cli(['snapshots', '--repo', repo, '--json']));
    assert.equal(snaps.length, 2);
    assert.equal(snaps[1].parent, snaps[0].id, 'the second dump has the first as its parent');
    const dumped = cliBytes(['dump', '--repo', repo, 'latest', '/db.sql']);
    assert.ok(dumped.stdout.equals(changed));
  });

  it('a command that is missing, fails, is killed or prints nothing gives one line and no snapshot', async (t) => {
    const { repo } = await newRepo(t);
    const cases: { argv: string[]; says: RegExp; stderr?: RegExp }[] = [
      { argv: ['no-such-command-driveseed'], says: /cannot run no-such-command-driveseed: not found; no snapshot saved/ },
      {
        argv: ['sh', '-c', 'echo partial; echo "pg_dump: error: connection refused" >&2; exit 4'],
        says: /sh exited with status 4: pg_dump: error: connection refused; no snapshot saved/,
        stderr: /^pg_dump: error: connection refused$/m,
      },
      { argv: ['sh', '-c', 'echo partial; kill -9 $$'], says: /sh was killed by SIGKILL; no snapshot saved/ },
      { argv: ['true'], says: /true gave no data; no snapshot saved/ },
    ];
    for (const c of cases) {
      const r = cli(['backup', '--repo', repo, '--stdin-filename', 'x', '--stdin-from-command', '--', ...c.argv]);
      assert.equal(r.code, 1, `${c.argv.join(' ')}: ${r.stderr}`);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], c.says);
      if (c.stderr) assert.match(r.stderr, c.stderr, "the command's stderr reaches the user");
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.equal(snapshotCount(repo), 0);
    const check = cli(['check', '--repo', repo]);
    assert.equal(check.code, 0, check.stderr);
  });

  it('refuses bad usage with one line', async (t) => {
    const { repo } = await newRepo(t);
    const usage = (args: string[], says: RegExp, input = 'x') => {
      const r = cliWithInput(['backup', '--repo', repo, ...args], input);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, says);
    };
    usage(['--stdin', '--stdin-from-command', '--', 'true'], /exclude each other/);
    usage(['--stdin-from-command'], /needs a command/);
    usage(['--stdin', '/etc'], /leave out the paths/);
    usage(['--stdin', '--stdin-filename', '../x'], /is not a file name/);
    usage([], /name at least one path/);
    const empty = cliWithInput(['backup', '--repo', repo, '--stdin'], '');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /stdin gave no data; no snapshot saved/);

    json(cliWithInput(['backup', '--repo', repo, '--stdin', '--stdin-filename', 'd/f', '--json'], 'hello'));
    const dir = cliBytes(['dump', '--repo', repo, 'latest', '/d']);
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /\/d is a directory; dump writes one file/);
    const missing = cliBytes(['dump', '--repo', repo, 'latest', '/d/nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/d\/nope is not in snapshot/);
  });

  /**
   * Measured peak RSS of the whole CLI: 114 MB for a 16 MiB stream, 193 MB for 256 MiB, 211 MB
   * for 1 GiB (packs in upload, the pipe, the window): flat, where a stream held whole would
   * need its size again. 384 MiB under 300 MB rules that out with room for a busy machine.
   */
  it('keeps memory to a window: a 384 MiB stream does not raise the peak RSS by its size', async (t) => {
    const { repo } = await newRepo(t);
    const r = spawnSync(
      '/usr/bin/time',
      [
        '-f',
        '%M',
        process.execPath,
        BIN,
        'backup',
        '--repo',
        repo,
        '--stdin-filename',
        'big',
        '--json',
        '--stdin-from-command',
        '--',
        'head',
        '-c',
        '384M',
        '/dev/urandom',
      ],
      {
        env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD },
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).bytesRead, 384 * 1024 * 1024);
    const peakMb = Number(r.stderr.trim().split('\n').at(-1)) / 1024;
    assert.ok(peakMb < 300, `peak RSS ${peakMb.toFixed(0)} MB`);
  });
});

describe('engine hooks: backup --pre-hook, --post-hook', () => {
  it('runs the pre hook before and the post hook after, and reports both in --json', async (t) => {
    const { dir, repo } = await newRepo(t);
    const data = join(dir, 'data');
    const log = join(dir, 'log');
    await writeFile(join(dir, 'seed'), 'x');
    // The pre hook makes the data the backup must then find; the post hook sees the backup done.
    const r = json(
      cli([
        'backup',
        '--repo',
        repo,
        data,
        '--json',
        '--pre-hook',
        `mkdir -p ${data} && echo made > ${data}/f && echo pre-said-this`,
        '--post-hook',
        `echo post >> ${log}`,
      ]),
    );
    assert.equal(r.filesNew, 1);
    assert.equal(r.hooks.pre.exitCode, 0);
    assert.match(r.hooks.pre.output, /pre-said-this/);
    assert.equal(r.hooks.post.exitCode, 0);
    assert.equal(await readFile(log, 'utf8'), 'post\n');
  });

  it('a failing pre hook: no backup, the post hook still runs, one line', async (t) => {
    const { dir, repo } = await newRepo(t);
    const log = join(dir, 'log');
    const r = cli(['backup', '--repo', repo, dir, '--pre-hook', 'echo cannot quiesce >&2; exit 7', '--post-hook', `echo post >> ${log}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(errorLines(r.stderr), ['driveseed: pre hook "echo cannot quiesce >&2; exit 7" exited with status 7: cannot quiesce; no backup was made']);
    assert.equal(await readFile(log, 'utf8'), 'post\n');
    assert.equal(snapshotCount(repo), 0);
  });

  it('a failing post hook keeps the backup, says so and exits 3', async (t) => {
    const { dir, repo } = await newRepo(t);
    await writeFile(join(dir, 'f'), 'data');
    const r = cli(['backup', '--repo', repo, join(dir, 'f'), '--json', '--post-hook', 'exit 5']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(JSON.parse(r.stdout).hooks.post.exitCode, 5);
    assert.match(r.stderr, /warning: post hook "exit 5" exited with status 5; the snapshot is saved/);
    assert.equal(snapshotCount(repo), 1);
  });

  it('the post hook runs after a backup that failed', async (t) => {
    const { dir, repo } = await newRepo(t);
    const marker = join(dir, 'post-ran');
    const r = cli(['backup', '--repo', repo, '--stdin-filename', 'x', '--post-hook', `touch ${marker}`, '--stdin-from-command', '--', 'false']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /false exited with status 1; no snapshot saved/);
    assert.ok(existsSync(marker), 'the post hook ran');
  });
});
