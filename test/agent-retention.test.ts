import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json, PASSWORD } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS } from './service-harness.js';
import { backupNow } from '../src/client/agent/backup-now.js';

const policyOf = (env: Record<string, string>) => json(cli(['agent', 'policy', '--json'], env));

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const vaultRepository = (s: { dataDir: string; registered: { vaultId: string; id: string } }) =>
  join(s.dataDir, 'blobs', 'vaults', s.registered.vaultId, 'servers', s.registered.id);

/** The local calendar date in Tokyo (UTC+9, no daylight saving) of a UTC time. */
const tokyoDate = (iso: string) => new Date(Date.parse(iso) + 9 * 3600_000).toISOString().slice(0, 10);

describe('retention in the vault', () => {
  it('agent protect sets keep rules that merge like its other flags; bad ones are refused in one line and change nothing', async (t) => {
    const s = await setUpAgent(t);
    const first = cli(
      ['agent', 'protect', s.data, '--schedule', '0 2 * * *', '--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '12', '--keep-yearly', '3'],
      s.env,
    );
    assert.equal(first.code, 0, first.stderr);
    const rules = { daily: 7, weekly: 4, monthly: 12, yearly: 3 };
    assert.deepEqual(policyOf(s.env), { paths: [s.data], excludes: [], schedule: '0 2 * * *', retention: rules });
    assert.match(cli(['agent', 'policy'], s.env).stdout, /^retention: --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-yearly 3$/m);

    const more = cli(
      ['agent', 'protect', '--keep-hourly', '24', '--keep-last', '3', '--keep-within', '10d', '--keep-tag', 'audit,legal', '--keep-tag', 'pinned'],
      s.env,
    );
    assert.match(more.stdout, /^changed: retention$/m);
    const all = { ...rules, hourly: 24, last: 3, within: '10d', tags: ['audit,legal', 'pinned'] };
    assert.deepEqual(policyOf(s.env).retention, all);
    // The vault records it for the console, as it does the paths and the schedule.
    assert.deepEqual(json(cli(['agent', 'status', '--json'], s.env)).server.retention, all);
    assert.equal(policyOf(s.env).schedule, '0 2 * * *', 'the schedule stays');
    assert.deepEqual(cli(['agent', 'protect', '--schedule', '0 3 * * *'], s.env).stdout.match(/^changed: .*$/m)?.[0], 'changed: schedule');
    assert.deepEqual(policyOf(s.env).retention, all, 'a schedule alone keeps the rules');

    for (const bad of [
      ['--keep-daily', '-1'],
      ['--keep-daily', 'seven'],
      ['--keep-within', '3x'],
      ['--keep-within', '0d'],
      ['--no-retention', '--keep-last', '2'],
    ]) {
      const r = cli(['agent', 'protect', ...bad], s.env);
      assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^driveseed: /);
      assert.deepEqual(policyOf(s.env).retention, all, `${bad.join(' ')} changed nothing`);
    }

    cli(['agent', 'protect', '--keep-hourly', '0', '--keep-last', '0', '--keep-within', 'off', '--no-keep-tag'], s.env);
    assert.deepEqual(policyOf(s.env).retention, rules);
    const none = cli(['agent', 'protect', '--no-retention'], s.env);
    assert.equal(none.code, 0, none.stderr);
    assert.equal('retention' in policyOf(s.env), false);
    assert.match(cli(['agent', 'policy'], s.env).stdout, /^retention: none \(the vault keeps every recovery point\)$/m);
    assert.equal(json(cli(['agent', 'status', '--json'], s.env)).server.retention, undefined);
  });

  it('a simulated year of daily backups keeps the points the rules name, the vault shrinks to them, and check --read-data passes', async (t) => {
    const s = await setUpAgent(t, {
      data: async (dir) => {
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'base.txt'), 'the part that never changes\n'.repeat(100));
      },
    });
    // The server is in Tokyo; it backs up at 03:00 local time, 18:00 UTC the day before: days are Tokyo's.
    const env = { ...s.env, TZ: 'Asia/Tokyo' };
    const protect = cli(['agent', 'protect', s.data, '--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '12', '--keep-yearly', '2'], env);
    assert.equal(protect.code, 0, protect.stderr);

    const DAY_BYTES = 32 * 1024;
    const content = new Map<string, Buffer>(); // local date → that day's file
    let forgottenInJobs = 0;
    let freedInJobs = 0;
    let sent = 0;
    let sizeAfterAMonth = 0;
    const firstLocalDay = Date.UTC(2025, 2, 1); // 2025-03-01, to 2026-02-28: 365 days
    // In this process (one node start per day would make the year take a quarter of an hour): the
    // agent's own backup-now against the service process, its home and clock set as the CLI would.
    const saved = { home: process.env.DRIVESEED_HOME, tz: process.env.TZ, now: process.env.DRIVESEED_NOW };
    process.env.DRIVESEED_HOME = env.DRIVESEED_HOME;
    process.env.TZ = env.TZ;
    try {
      for (let day = 0; day < 365; day++) {
        const localDate = new Date(firstLocalDay + day * 86_400_000).toISOString().slice(0, 10);
        process.env.DRIVESEED_NOW = new Date(firstLocalDay + day * 86_400_000 - 6 * 3600_000).toISOString(); // 03:00 in Tokyo
        // Every day the one changing file is new data: a forgotten day frees its 32 KiB.
        const bytes = randomBytes(DAY_BYTES);
        content.set(localDate, bytes);
        await writeFile(join(s.data, 'today.bin'), bytes);
        const { job, retention } = await backupNow(PASSWORD);
        assert.equal(job.state, 'Completed', `day ${day}: ${JSON.stringify(job)}`);
        assert.ok(job.retention && retention, `day ${day}: the job records its retention`);
        assert.equal(job.retention.pointsForgotten, retention.forgotten.length);
        assert.equal(retention.note, undefined);
        for (const gone of retention.forgotten) assert.notEqual(gone.id, job.snapshotId, 'the point just made is never forgotten');
        forgottenInJobs += job.retention.pointsForgotten;
        freedInJobs += job.retention.bytesFreed;
        sent += job.bytesSent;
        if (day === 30) sizeAfterAMonth = await directoryBytes(vaultRepository(s));
      }
    } finally {
      for (const [name, value] of [
        ['DRIVESEED_HOME', saved.home],
        ['TZ', saved.tz],
        ['DRIVESEED_NOW', saved.now],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }

    // Worked out by hand from the calendar (2026-02-28 is a Saturday of ISO week 9):
    // daily 7: 22-28 Feb; weekly 4: weeks 9..6 → 28, 22, 15, 8 Feb; monthly 12: each month's last
    // day, March 2025 to February 2026; yearly 2: 28 Feb 2026 and 31 Dec 2025 (already kept).
    const expected = [
      ...['28', '27', '26', '25', '24', '23', '22', '15', '08'].map((d) => `2026-02-${d}`),
      '2026-01-31',
      '2025-12-31',
      '2025-11-30',
      '2025-10-31',
      '2025-09-30',
      '2025-08-31',
      '2025-07-31',
      '2025-06-30',
      '2025-05-31',
      '2025-04-30',
      '2025-03-31',
    ];
    const points = json(cli(['agent', 'recovery-points', '--json'], env)).recoveryPoints;
    assert.deepEqual(
      points.map((p: { time: string }) => tokyoDate(p.time)),
      expected,
      'the vault lists exactly the points the rules keep',
    );
    assert.equal(forgottenInJobs, 365 - expected.length, 'the jobs account for every point forgotten');
    // The console's forecast: every point has a date after the newest backup (the yearly ones within 3 years).
    for (const p of points) {
      assert.ok(p.expiresAt > points[0].time, `${p.time} expires ${p.expiresAt}`);
      assert.ok(Date.parse(p.expiresAt) < Date.parse(points[0].time) + 3 * 366 * 86_400_000, `${p.time} expires ${p.expiresAt}`);
    }

    const repoDir = vaultRepository(s);
    const snapshots = json(cli(['snapshots', '--repo', repoDir, '--json'], { DRIVESEED_PASSWORD: PASSWORD }));
    assert.deepEqual(snapshots.map((p: { time: string }) => tokyoDate(p.time)).sort(), [...expected].sort(), 'the repository holds the same snapshots');

    // The vault's size falls with the points: it holds about one day's data per kept point, not 365.
    const size = await directoryBytes(repoDir);
    assert.ok(sent > 365 * DAY_BYTES, `sent ${sent}`);
    assert.ok(size >= expected.length * DAY_BYTES, `vault ${size} bytes holds every kept day`);
    assert.ok(size < (expected.length + 10) * DAY_BYTES + 256 * 1024, `vault ${size} bytes, ${sent} sent: the expired days were pruned`);
    assert.ok(size * 8 < sent, `the vault holds ${size} bytes of the ${sent} a year sent`);
    // A month in (31 March) it held 9 points: 25-31 March and the weeks' 16 and 23 March. The year's 20 add 11 days' data.
    assert.ok(size < sizeAfterAMonth + 12 * (DAY_BYTES + 4096), `a year (${size}) holds little more than a month did (${sizeAfterAMonth})`);
    assert.ok(freedInJobs > (365 - expected.length - 10) * DAY_BYTES, `the jobs say ${freedInJobs} bytes were freed`);

    const check = cli(['check', '--repo', repoDir, '--read-data'], { DRIVESEED_PASSWORD: PASSWORD });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    // The oldest point kept still restores that day's data, byte for byte.
    const oldest = points.at(-1);
    const target = join(s.dir, 'restore');
    const restored = cli(['agent', 'restore', oldest.id, '--target', target], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(await readFile(join(target, s.data, 'today.bin')), content.get('2025-03-31'));
  });

  it("a seed's points are never pruned while it travels; once it lands, retention runs on the whole repository", async (t) => {
    const s = await setUpAgent(t, {
      extra: ['--no-import-worker'],
      data: async (dir) => {
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'seeded.bin'), randomBytes(3 * 1024 * 1024));
      },
    });
    const staging = join(s.dir, 'staging');
    const JOB = 'seed-keep';
    const offline = ['--offline', '--staging', staging, '--job', JOB, '--storage-account', 'seedacct', '--container', 'seeds'];
    assert.equal(cli(['agent', 'protect', s.data, ...offline, '--keep-last', '1'], s.env).code, 0);
    const backupOn = (day: string) => {
      const run = cli(['agent', 'backup-now', '--json'], { ...s.env, DRIVESEED_NOW: `${day}T02:00:00Z` });
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout);
    };
    const vaultSnapshots = async () => (await readdir(join(vaultRepository(s), 'snapshots')).catch(() => [])).length;

    // Staged, then two backups while the drives travel: keep-last 1 would forget three of them.
    assert.equal(backupOn('2026-05-01').state, 'Waiting');
    for (const day of ['2026-05-02', '2026-05-03']) {
      await writeFile(join(s.data, `change-${day}.txt`), `changed on ${day}\n`);
      const waiting = backupOn(day);
      assert.equal(waiting.state, 'Waiting');
      assert.equal(waiting.retention, undefined, 'no retention while the seed travels');
      assert.equal(waiting.forgotten, undefined);
    }
    // The vault holds the staged snapshot (shared with the seed's metadata) and both made in transit.
    assert.equal(await vaultSnapshots(), 3, 'no point of the travelling seed forgotten');

    const drive = join(s.dir, 'drive1');
    await mkdir(drive);
    const prep = cli(['diskprep', '--staging', staging, '--publish-settings', s.settings, '--job', JOB, '--drive', drive, '--capacity', '64MB'], s.env);
    assert.equal(prep.code, 0, prep.stderr);
    const ship = cli(
      [
        'diskprep',
        '--update-shipping',
        '--staging',
        staging,
        '--publish-settings',
        s.settings,
        '--job',
        JOB,
        '--tracking',
        'TRACK-KEEP-1',
        ...SHIPPING,
        '--yes',
      ],
      s.env,
    );
    assert.equal(ship.code, 0, ship.stderr);
    const shipped = backupOn('2026-05-04');
    assert.equal(shipped.state, 'Waiting');
    assert.equal(shipped.retention, undefined, 'no retention while the drives are on their way');
    assert.equal(await vaultSnapshots(), 4);
    assert.equal(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', JOB, '--drive', drive], s.env).code, 0);

    // Landed: the seed completes, the Waiting points become recovery points, and retention now applies to them.
    await writeFile(join(s.data, 'after.txt'), 'after the seed landed\n');
    const landed = backupOn('2026-05-05');
    assert.equal(landed.seed.job.state, 'Completed');
    assert.equal(landed.state, 'Completed');
    assert.equal(landed.retention.pointsForgotten, 4, 'the staged point and the three made in transit');
    const points = json(cli(['agent', 'recovery-points', '--json'], s.env)).recoveryPoints;
    assert.deepEqual(
      points.map((p: { id: string }) => p.id),
      [landed.snapshotId],
    );
    const check = cli(['check', '--repo', vaultRepository(s), '--read-data'], { DRIVESEED_PASSWORD: PASSWORD });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const target = join(s.dir, 'restore');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', target], s.env).code, 0);
    assert.deepEqual(
      await readFile(join(target, s.data, 'seeded.bin')),
      await readFile(join(s.data, 'seeded.bin')),
      'the seeded data stays: the newest point uses it',
    );
    // Online from here: the next backup forgets the one before it, and says so.
    await writeFile(join(s.data, 'next.txt'), 'the day after\n');
    const next = cli(['agent', 'backup-now'], { ...s.env, DRIVESEED_NOW: '2026-05-06T02:00:00Z' });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /^online job \w+ Completed: .*; recovery point \w+; retention forgot 1 points, freed \d/m);
  });
});

const SHIPPING = SHIPPING_FLAGS;
