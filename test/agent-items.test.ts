import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { cli, json } from './cli-harness.js';
import { ownerConsoleGet, setUpAgent } from './service-harness.js';

/** Text like a plain SQL dump's COPY section: a row a line, none repeating. */
function dumpLike(lines: number, seed = 1): Buffer {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(`${i}\t${x.toString(36)}\tcustomer ${x % 9973}\t${(x % 100000) / 100}\n`);
  }
  return Buffer.from(out.join(''));
}

describe('agent items that are commands', () => {
  it('backs up a command beside the paths, restores it to a command or a directory, and deduplicates the next dump', async (t) => {
    const s = await setUpAgent(t);
    const db = join(s.dir, 'db.txt');
    const rows = dumpLike(300_000);
    await writeFile(db, rows);
    const protect = cli(['agent', 'protect', s.data, '--item', 'sales-db', '--command', `cat ${db}`], s.env);
    assert.equal(protect.code, 0, protect.stderr);
    assert.match(protect.stdout, /^item sales-db: cat /m);
    const first = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(first.state, 'Completed');

    const restored = join(s.dir, 'restored.txt');
    const toCommand = cli(['agent', 'restore', 'latest', '--item', 'sales-db', '--to-command', `cat > ${restored}`], s.env);
    assert.equal(toCommand.code, 0, toCommand.stderr);
    assert.ok((await readFile(restored)).equals(rows), 'the item comes back through the command');
    const dir = join(s.dir, 'items');
    assert.equal(cli(['agent', 'restore', 'latest', '--item', 'sales-db', '--target', dir], s.env).code, 0);
    assert.ok((await readFile(join(dir, 'sales-db'))).equals(rows));
    // The paths of the same recovery point restore as before.
    const files = join(s.dir, 'files');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', files], s.env).code, 0);
    assert.deepEqual(await compareTrees(s.data, join(files, s.data)), []);

    // A changed row: the second dump sends little; the files are unchanged and not read.
    const changed = Buffer.concat([rows.subarray(0, 4_000_000), Buffer.from('a changed row\n'), rows.subarray(4_000_000)]);
    await writeFile(db, changed);
    const second = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(second.state, 'Completed');
    assert.ok(second.filesUnchanged > 0 && second.filesNew === 1, JSON.stringify(second));
    t.diagnostic(`item ${rows.length} bytes; first run sent ${first.bytesSent}, second ${second.bytesSent}`);
    assert.ok(second.bytesSent < first.bytesSent / 5, `second sent ${second.bytesSent} against ${first.bytesSent}`);
    const again = join(s.dir, 'again.txt');
    assert.equal(cli(['agent', 'restore', 'latest', '--item', 'sales-db', '--to-command', `cat > ${again}`], s.env).code, 0);
    assert.ok((await readFile(again)).equals(changed));

    // A restore command that fails is a failed restore.
    const bad = cli(['agent', 'restore', 'latest', '--item', 'sales-db', '--to-command', 'exit 4'], s.env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^driveseed: exit 4 exited with status 4; the item was not restored whole$/m);
  });

  it('an item whose command fails fails the job: no recovery point, its stderr in the one line', async (t) => {
    const s = await setUpAgent(t);
    assert.equal(cli(['agent', 'protect', s.data, '--item', 'broken', '--command', 'echo "pg_dump: error: no such database" >&2; exit 1'], s.env).code, 0);
    const r = cli(['agent', 'backup-now'], s.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^driveseed: item broken \(.*\) exited with status 1: pg_dump: error: no such database; no snapshot saved$/m);
    const status = json(cli(['agent', 'status', '--json'], s.env));
    assert.equal(status.recoveryPoints.length, 0);
    assert.equal(status.jobs[0].state, 'Failed');
    // Removing the item: the paths back up again.
    assert.equal(cli(['agent', 'protect', '--item', 'broken', '--no-command'], s.env).code, 0);
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
    const packed = cli(['agent', 'protect', '--item', 'packed', '--command', 'pg_dump -Fc sales'], s.env);
    assert.equal(packed.code, 0);
    assert.match(packed.stderr, /^warning: item packed: pg_dump's custom and directory formats compress by default, .*add -Z0$/m);
    assert.equal(cli(['agent', 'protect', '--item', 'packed', '--no-command'], s.env).code, 0);
    const usage = cli(['agent', 'protect', '--item', 'x'], s.env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--item and --command/);
  });

  it("the console lists a server's command items with the size each last stored; a failed dump keeps it and fails the job", async (t) => {
    const s = await setUpAgent(t);
    const db = join(s.dir, 'db.txt');
    await writeFile(db, dumpLike(1000));
    const size = (await readFile(db)).length;
    assert.equal(cli(['agent', 'protect', s.data, '--item', 'sales-db', '--command', `cat ${db}`], s.env).code, 0);
    assert.equal(cli(['agent', 'protect', '--item', 'users', '--command', 'printf abc'], s.env).code, 0);
    const first = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(first.state, 'Completed');
    const job = await ownerConsoleGet(s, `backup-jobs/${first.id}`);
    assert.deepEqual(job.items, [
      { name: 'sales-db', bytes: size },
      { name: 'users', bytes: 3 },
    ]);
    const overview = await ownerConsoleGet(s, 'overview');
    assert.deepEqual(
      overview.items[0].commandItems.map((c: { name: string; bytes: number; jobId: string }) => [c.name, c.bytes, c.jobId]),
      [
        ['sales-db', size, first.id],
        ['users', 3, first.id],
      ],
    );
    assert.equal(overview.items[0].lastJob.state, 'Completed');

    // The dump fails: the job is Failed, and the items keep the size of the last dump stored.
    assert.equal(cli(['agent', 'protect', '--item', 'users', '--command', 'echo "no such table" >&2; exit 3'], s.env).code, 0);
    assert.equal(cli(['agent', 'backup-now'], s.env).code, 1);
    const after = await ownerConsoleGet(s, 'overview');
    assert.equal(after.items[0].lastJob.state, 'Failed');
    assert.match(after.items[0].lastJob.error, /item users .* exited with status 3: no such table/);
    assert.deepEqual(
      after.items[0].commandItems.map((c: { name: string; bytes: number; jobId: string }) => [c.name, c.bytes, c.jobId]),
      [
        ['sales-db', size, first.id],
        ['users', 3, first.id],
      ],
    );
  });
});
