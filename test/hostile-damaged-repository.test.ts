import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json, tempDir } from './cli-harness.js';

/*
 * One damaged snapshot or index file never blocks the rest (issue 15, item 8): commands warn
 * and go on with the other files, and `repair snapshots` / `repair index` remove or rebuild
 * what is damaged, after a dry run that says what they would do.
 */

async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  await writeFile(path, bytes);
}

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** A repository with three snapshots of two paths; the first one's file damaged. */
async function repositoryWithDamagedSnapshot(t: any) {
  const dir = await tempDir(t, 'driveseed-hostile-repo-');
  const repo = join(dir, 'repo');
  const data = join(dir, 'data');
  const other = join(dir, 'other');
  assert.equal(cli(['init', '--repo', repo]).code, 0);
  await mkdir(data);
  await mkdir(other);
  await writeFile(join(data, 'a'), 'first\n');
  await writeFile(join(other, 'b'), 'other\n');
  const first = json(cli(['backup', '--repo', repo, data, '--json'])).snapshotId as string;
  await writeFile(join(data, 'a'), 'second\n');
  const second = json(cli(['backup', '--repo', repo, data, '--json'])).snapshotId as string;
  const third = json(cli(['backup', '--repo', repo, other, '--json'])).snapshotId as string;
  await flipByte(join(repo, 'snapshots', first));
  return { dir, repo, data, other, first, second, third };
}

describe('a damaged snapshot file', () => {
  it('is passed over with a warning by snapshots, backup, restore and forget', async (t) => {
    const r = await repositoryWithDamagedSnapshot(t);
    const warning = new RegExp(`^warning: snapshots/${r.first}: .*content does not match its name.*repair snapshots`, 'm');

    const listed = cli(['snapshots', '--repo', r.repo, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, warning);
    assert.deepEqual(
      JSON.parse(listed.stdout)
        .map((s: any) => s.id)
        .sort(),
      [r.second, r.third].sort(),
    );

    await writeFile(join(r.data, 'a'), 'third\n');
    const backed = cli(['backup', '--repo', r.repo, r.data, '--json']);
    assert.equal(backed.code, 0, backed.stderr);
    assert.match(backed.stderr, warning);

    const target = join(r.dir, 'restore');
    const restored = cli(['restore', '--repo', r.repo, r.second, '--target', target]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, warning);
    assert.equal(await readFile(join(target, r.data, 'a'), 'utf8'), 'second\n');

    const forgot = cli(['forget', '--repo', r.repo, '--keep-last', '1', '--json']);
    assert.equal(forgot.code, 0, forgot.stderr);
    assert.match(forgot.stderr, warning);
    assert.deepEqual(JSON.parse(forgot.stdout).removed, [r.second]);
    assert.ok((await filesIn(join(r.repo, 'snapshots'))).includes(r.first), 'forget leaves the damaged file to repair');

    const pruned = cli(['forget', '--repo', r.repo, '--keep-last', '1', '--prune']);
    assert.equal(pruned.code, 1);
    assert.match(pruned.stderr, /^driveseed: prune refused: snapshots\/[0-9a-f]{64} cannot be read .*repair snapshots/m);
  });

  it('`repair snapshots --dry-run` says what it would remove and removes nothing; `repair snapshots` removes it', async (t) => {
    const r = await repositoryWithDamagedSnapshot(t);
    const before = await filesIn(join(r.repo, 'snapshots'));
    const dry = cli(['repair', 'snapshots', '--repo', r.repo, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^would remove snapshots/${r.first}: .*content does not match its name`, 'm'));
    assert.match(dry.stdout, /^2 snapshots intact, 1 damaged would be removed$/m);
    assert.deepEqual(await filesIn(join(r.repo, 'snapshots')), before);

    const done = cli(['repair', 'snapshots', '--repo', r.repo]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, new RegExp(`^removed snapshots/${r.first}: `, 'm'));
    assert.deepEqual(await filesIn(join(r.repo, 'snapshots')), [r.second, r.third].sort());
    const listed = cli(['snapshots', '--repo', r.repo]);
    assert.equal(listed.stderr, '', 'no warning once repaired');
    assert.equal(cli(['check', '--repo', r.repo]).code, 0);
    assert.equal(cli(['forget', '--repo', r.repo, '--keep-last', '1', '--prune']).code, 0, 'prune runs again');
  });

  it('`repair snapshots --help` explains itself', () => {
    const help = cli(['repair', 'snapshots', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--dry-run/);
    assert.match(cli(['repair', '--help']).stdout, /snapshots[\s\S]*index/);
  });
});

describe('a damaged index file', () => {
  it('is warned about by backup and restore, and `repair index` rebuilds it after a dry run that changes nothing', async (t) => {
    const r = await repositoryWithDamagedSnapshot(t);
    assert.equal(cli(['repair', 'snapshots', '--repo', r.repo]).code, 0);
    const indexDir = join(r.repo, 'index');
    const indexFiles = await filesIn(indexDir);
    const sizes = await Promise.all(indexFiles.map(async (f) => (await stat(join(indexDir, f))).size));
    const victim = indexFiles[sizes.indexOf(Math.max(...sizes))];
    await flipByte(join(indexDir, victim));
    const warning = new RegExp(`^warning: index/${victim}: .*repair index`, 'm');

    const target = join(r.dir, 'restore');
    const restored = cli(['restore', '--repo', r.repo, r.third, '--target', target]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, warning);
    assert.equal(await readFile(join(target, r.other, 'b'), 'utf8'), 'other\n');

    const dry = cli(['repair', 'index', '--repo', r.repo, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^would remove index/${victim}: `, 'm'));
    const wouldIndex = Number(/^(\d+) packs would be indexed from their headers/m.exec(dry.stdout)?.[1]);
    assert.ok(wouldIndex > 0, dry.stdout);
    assert.deepEqual(await filesIn(indexDir), indexFiles, 'a dry run changes nothing');

    const done = cli(['repair', 'index', '--repo', r.repo, '--json']);
    assert.equal(done.code, 0, done.stderr);
    const report = JSON.parse(done.stdout);
    assert.deepEqual(
      report.damaged.map((p: any) => p.file),
      [`index/${victim}`],
    );
    assert.equal(report.packsIndexed, wouldIndex);
    assert.ok(!(await filesIn(indexDir)).includes(victim), 'the damaged file is gone');

    const check = cli(['check', '--repo', r.repo, '--read-data']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(check.stderr, '');
    const again = cli(['restore', '--repo', r.repo, 'latest', '--target', join(r.dir, 'again')]);
    assert.equal(again.code, 0);
    assert.equal(again.stderr, '', 'no warning once rebuilt');
    assert.equal(cli(['forget', '--repo', r.repo, '--keep-last', '1', '--prune']).code, 0, 'prune runs again');
  });
});
