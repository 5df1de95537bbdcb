import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { openDatabase } from '../src/service/db/open-database.js';
import { applyDeadlines } from '../src/service/importexport/import-jobs.js';
import { DAY_MS } from '../src/service/importexport/states.js';
import { ServiceClient } from '../src/api/service-client.js';
import { BIN, PASSWORD, cli, cliAsync, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS } from './service-harness.js';
import { openDriveSource } from '../src/core/envelope/drive-medium.js';

const JOB = 'seed-one';
const SHIPPING = SHIPPING_FLAGS;

/** Random (incompressible) files plus small text files: several 16 MiB packs, so the seed spans drives. */
async function writeData(dir: string, megabytes: number): Promise<void> {
  await mkdir(join(dir, 'docs'), { recursive: true });
  for (let i = 0; i < megabytes / 8; i++) await writeFile(join(dir, `blob-${i}.bin`), randomBytes(8 * 1024 * 1024));
  for (let i = 0; i < 40; i++) await writeFile(join(dir, 'docs', `note-${i}.txt`), `note ${i}\n`.repeat(50 + i));
}

/** A registered agent with an offline policy and its first backup staged. */
async function staged(t: any, megabytes = 40, options: { importWorker?: boolean } = {}) {
  const s = await setUpAgent(t, { extra: options.importWorker ? [] : ['--no-import-worker'], data: (dir) => writeData(dir, megabytes) });
  const staging = join(s.dir, 'staging');
  const protect = cli(
    ['agent', 'protect', s.data, '--offline', '--staging', staging, '--job', JOB, '--storage-account', 'seedacct', '--container', 'seeds'],
    s.env,
  );
  assert.equal(protect.code, 0, protect.stderr);
  const first = json(cli(['agent', 'backup-now', '--json'], s.env));
  assert.equal(first.state, 'Waiting');
  assert.equal(first.kind, 'offline');
  assert.equal(first.traffic.sent < 20_000, true, `the offline backup sent ${first.traffic.sent} bytes over the network`);
  // Two mounted drives and, between them, an image file: a job may mix them.
  const drives = [join(s.dir, 'drive1'), join(s.dir, 'drive2.img'), join(s.dir, 'drive3')];
  for (const d of drives) if (!d.endsWith('.img')) await mkdir(d);
  const diskprep = (paths: string[], extra: string[] = []) =>
    cli(['diskprep', '--staging', staging, '--publish-settings', s.settings, '--job', JOB, '--drive', ...paths, '--capacity', '24MB', ...extra], s.env);
  const receive = (paths: string[]) => cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', JOB, '--drive', ...paths, '--json']);
  const ship = (tracking: string) =>
    cli(
      ['diskprep', '--update-shipping', '--staging', staging, '--publish-settings', s.settings, '--job', JOB, '--tracking', tracking, ...SHIPPING, '--yes'],
      s.env,
    );
  const status = () => json(cli(['diskprep', '--status', '--staging', staging, '--publish-settings', s.settings, '--job', JOB, '--json'], s.env));
  const restoreMatches = async () => {
    const target = join(s.dir, `restored-${Date.now()}`);
    const r = cli(['agent', 'restore', 'latest', '--target', target], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
  };
  const vaultRepository = async () => {
    const vaults = join(s.dataDir, 'blobs', 'vaults');
    const [vaultId] = await readdir(vaults);
    return join(vaults, vaultId, 'servers', s.registered.id);
  };
  return { ...s, staging, drives, diskprep, receive, ship, status, restoreMatches, vaultRepository };
}

describe('offline seeding end to end', () => {
  it('stages, spans drives, ships, imports, completes the seed and sends only the changes', async (t) => {
    const s = await staged(t);
    const waiting = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(waiting.state, 'Waiting');
    assert.match(waiting.message, /Waiting for import job to complete \(import job seed-one is not created yet/);
    // Backups go on while the seed travels: only the change (and the seed's small metadata) crosses the network.
    await appendFile(join(s.data, 'docs', 'note-2.txt'), 'written while the drives travel\n');
    const inTransit = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(inTransit.state, 'Waiting');
    assert.match(inTransit.message, /meanwhile 1 new or changed files went to the vault/);
    assert.equal(inTransit.filesChanged, 1);
    assert.ok(inTransit.traffic.sent < 0.02 * 40 * 1024 * 1024, `sent ${inTransit.traffic.sent} bytes while the drives travel`);

    const prep = json(s.diskprep(s.drives.slice(0, 3), ['--json']));
    assert.ok(prep.drives.length >= 2, 'the seed spans drives');
    assert.equal(prep.job.state, 'Creating');
    assert.match(prep.job.shippingAddress, /driveseed data centre/);
    assert.ok(
      prep.drives.some((d: { path: string }) => d.path.endsWith('.img')),
      'an image file among the drives',
    );
    for (const d of prep.drives) {
      const header = JSON.parse((await (await openDriveSource(d.path)).read('driveseed-drive.json', 1 << 16))!.toString('utf8'));
      assert.deepEqual(Object.keys(header).sort(), ['createdAt', 'driveId', 'format', 'jobName', 'version'], 'nothing but the header in clear');
    }
    assert.equal(json(s.diskprep(s.drives.slice(0, 3), ['--json'])).alreadyRegistered, true, 'a rerun after success changes nothing');

    assert.equal(s.ship('TRACK-1001').code, 0);
    assert.equal(s.status().job.state, 'Shipping');
    assert.match(json(cli(['agent', 'backup-now', '--json'], s.env)).message, /Waiting for import job to complete \(import job seed-one is Shipping\)/);

    const received = s.receive(prep.drives.map((d: { path: string }) => d.path));
    assert.deepEqual(
      json(received).drives.map((d: { state: string }) => d.state),
      prep.drives.map(() => 'Completed'),
    );
    assert.equal(s.status().job.state, 'Packaging');

    await appendFile(join(s.data, 'docs', 'note-1.txt'), 'one more line\n');
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.equal(after.seed.healed.files, 0);
    assert.equal(after.seed.copy.damaged.length, 0);
    assert.equal(after.kind, 'online');
    assert.equal(after.filesChanged, 1);
    // Only the change (and the metadata to find it) crossed the network: far under 2% of the tree.
    assert.ok(after.traffic.sent < 0.02 * 40 * 1024 * 1024, `sent ${after.traffic.sent} bytes`);
    await assert.rejects(stat(join(s.staging, JOB, 'repository')), 'the staged copy is deleted once the vault verified');
    await s.restoreMatches();
    const check = cli(['check', '--repo', await s.vaultRepository(), '--read-data']);
    assert.equal(check.code, 0, check.stderr);
  });

  it('a flipped byte on a drive ends it CompletedMoreInfo; the seed heals that pack over the network', async (t) => {
    const s = await staged(t);
    const prep = json(s.diskprep(s.drives, ['--json']));
    const victim = prep.drives[0].path;
    const payload = join(victim, 'payload', '000000');
    const bytes = await readFile(payload);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(payload, bytes);
    assert.equal(s.ship('TRACK-2002').code, 0);
    const received = json(s.receive(prep.drives.map((d: { path: string }) => d.path)));
    const bad = received.drives.find((d: { driveId: string }) => d.driveId === prep.drives[0].driveId);
    assert.equal(bad.state, 'CompletedMoreInfo');
    assert.match(bad.errorLog, /block \d+: block does not decrypt/);
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.equal(after.seed.healed.files, 1, 'exactly the damaged file is sent');
    await s.restoreMatches();
    assert.equal(cli(['check', '--repo', await s.vaultRepository(), '--read-data']).code, 0);
  });

  it('a drive that never arrives is declared NeverReceived; the seed completes from the rest plus the network', async (t) => {
    const s = await staged(t);
    const prep = json(s.diskprep(s.drives, ['--json']));
    assert.equal(s.ship('TRACK-3003').code, 0);
    json(s.receive([prep.drives[0].path]));
    assert.match(json(cli(['agent', 'backup-now', '--json'], s.env)).message, /Waiting for import job to complete/);
    const database = await openDatabase(join(s.dataDir, 'driveseed.db'));
    await applyDeadlines(database.db, new Date(Date.now() + 15 * DAY_MS));
    await database.close();
    const missing = s.status().job.drives.filter((d: { state: string }) => d.state === 'NeverReceived');
    assert.equal(missing.length, prep.drives.length - 1);
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.ok(after.seed.healed.files > 0);
    await s.restoreMatches();
  });

  it('what a lost drive carried goes on a replacement drive (diskprep --repair), not over the network past the heal limit', async (t) => {
    const s = await staged(t);
    const protect = cli(
      [
        'agent',
        'protect',
        s.data,
        '--offline',
        '--staging',
        s.staging,
        '--job',
        JOB,
        '--storage-account',
        'seedacct',
        '--container',
        'seeds',
        '--heal-limit',
        '1MB',
      ],
      s.env,
    );
    assert.equal(protect.code, 0, protect.stderr);
    const prep = json(s.diskprep(s.drives, ['--json']));
    const repairCli = (args: string[]) => cli(['diskprep', '--repair', '--staging', s.staging, '--publish-settings', s.settings, '--job', JOB, ...args], s.env);
    const early = repairCli(['--drive', join(s.dir, 'too-early.img')]);
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /import job seed-one is Creating: replacement drives are for what its import did not deliver/);
    assert.equal(s.ship('TRACK-6006').code, 0);
    json(s.receive([prep.drives[0].path]));
    const database = await openDatabase(join(s.dataDir, 'driveseed.db'));
    await applyDeadlines(database.db, new Date(Date.now() + 15 * DAY_MS));
    await database.close();

    // More is missing than the agent may send unasked: it says so, sends nothing, points at the repair.
    const refused = cli(['agent', 'backup-now'], s.env);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /the import did not deliver \d+ files \([\d.]+ MB\), more than the 1\.0 MB the seed may heal over the network.*diskprep --repair/s,
    );

    const replacement = join(s.dir, 'replacement.img');
    const repair = json(repairCli(['--drive', replacement, '--capacity', '200MB', '--json']));
    assert.equal(repair.job.name, 'seed-one-repair');
    assert.equal(repair.job.state, 'Creating');
    assert.ok(
      repair.repair.files > 0 && repair.repair.bytes > 16 * 1024 * 1024,
      `the replacement carries what the lost drives did: ${JSON.stringify(repair.repair)}`,
    );
    assert.equal(json(repairCli(['--drive', replacement, '--json'])).alreadyRegistered, true, 'a rerun changes nothing');
    assert.match(
      json(cli(['agent', 'backup-now', '--json'], s.env)).message,
      /Waiting for import job to complete \(replacement drives: import job seed-one-repair is Creating\)/,
    );

    const shipped = repairCli(['--update-shipping', '--tracking', 'TRACK-6007', ...SHIPPING, '--yes']);
    assert.equal(shipped.code, 0, shipped.stderr);
    assert.equal(json(repairCli(['--status', '--json'])).job.state, 'Shipping');
    const received = json(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', 'seed-one-repair', '--drive', replacement, '--json']));
    assert.deepEqual(
      received.drives.map((d: { state: string }) => d.state),
      ['Completed'],
    );

    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.equal(after.seed.healed.files, 0, 'the replacement drive delivered everything; nothing healed over the network');
    await s.restoreMatches();
    assert.equal(cli(['check', '--repo', await s.vaultRepository(), '--read-data']).code, 0);
  });

  it("drives queued with --queue-only are imported by the service's own worker", async (t) => {
    const s = await staged(t, 16, { importWorker: true });
    const prep = json(s.diskprep([s.drives[0]], ['--json']));
    assert.equal(s.ship('TRACK-6006').code, 0);
    const queued = cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', JOB, '--drive', prep.drives[0].path, '--queue-only']);
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(queued.stdout, /^1 drive received and queued for import$/m);
    let state = '';
    for (let i = 0; i < 300 && state !== 'Packaging'; i++) {
      await sleep(100);
      state = s.status().job.state;
    }
    assert.equal(state, 'Packaging');
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).seed.job.state, 'Completed');
  });

  it('refuses bad input in one line and writes nothing', async (t) => {
    const s = await staged(t, 16);
    const oneLine = (r: { code: number; stderr: string }, pattern: RegExp) => {
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    };
    oneLine(
      cli(
        ['agent', 'protect', s.data, '--offline', '--staging', s.staging, '--job', 'Bad Name', '--storage-account', 'seedacct', '--container', 'seeds'],
        s.env,
      ),
      /breaks the naming rules/,
    );
    // An agent with an offline policy keeps the flags not given (agent-policy.test.ts); a first one needs them all.
    oneLine(
      cli(['agent', 'protect', s.data, '--offline', '--staging', s.staging], { DRIVESEED_HOME: join(s.dir, 'fresh-agent') }),
      /--offline needs --job, --storage-account, --container/,
    );
    oneLine(s.diskprep([join(s.dir, 'nowhere')]), /drive .*nowhere is not there/);
    oneLine(
      cli(['diskprep', '--staging', s.staging, '--publish-settings', s.settings, '--job', 'other-job', '--drive', s.drives[0]], s.env),
      /holds no staged backup for import job other-job \(it holds: seed-one\)/,
    );
    oneLine(
      cli(['diskprep', '--staging', s.staging, '--publish-settings', s.settings, '--job', JOB, '--drive', s.drives[0], '--capacity', '1MB'], s.env),
      /too small for even one file/,
    );
    oneLine(
      cli(['diskprep', '--staging', s.staging, '--publish-settings', s.settings, '--job', JOB, '--drive', s.drives[0], '--capacity', '11TB'], s.env),
      /larger than 10 TB/,
    );
    const elevenDrives = Array.from({ length: 11 }, (_, i) => join(s.dir, `many-${i}`));
    for (const d of elevenDrives) await mkdir(d);
    oneLine(s.diskprep(elevenDrives), /at most 10 drives/);
    await writeFile(join(s.drives[0], 'family-photos.jpg'), 'precious');
    oneLine(s.diskprep([s.drives[0]]), /not empty/);
    for (const d of [s.drives[0], ...elevenDrives])
      assert.deepEqual(
        (await readdir(d)).filter((e) => !e.startsWith('family')),
        [],
        `nothing written on ${d}`,
      );
    assert.equal(await readFile(join(s.drives[0], 'family-photos.jpg'), 'utf8'), 'precious');
    // Asked to erase and told no: nothing changes.
    const declined = cli(['diskprep', '--staging', s.staging, '--publish-settings', s.settings, '--job', JOB, '--drive', s.drives[0], '--capacity', '24MB'], {
      ...s.env,
    });
    assert.notEqual(declined.code, 0);
    assert.equal(await readFile(join(s.drives[0], 'family-photos.jpg'), 'utf8'), 'precious');
    // "no" at the erase prompt is "not this drive": another is asked for; Enter there stops, and loses nothing (issue 18).
    const other = spawnSync(
      process.execPath,
      [BIN, 'diskprep', '--staging', s.staging, '--publish-settings', s.settings, '--job', JOB, '--drive', s.drives[0], '--capacity', '24MB'],
      {
        env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD, ...s.env },
        input: 'no\n\n',
        encoding: 'utf8',
      },
    );
    assert.equal(other.status, 2, other.stderr);
    assert.match(
      other.stderr,
      /Type "yes" to erase: no\nDrive .* left as it was\.\nAnother drive instead \(Enter to stop\): \ndriveseed: no drive given; stopped/,
    );
    assert.equal(await readFile(join(s.drives[0], 'family-photos.jpg'), 'utf8'), 'precious');

    assert.equal(json(s.diskprep([s.drives[0]], ['--yes', '--json'])).job.state, 'Creating');
    assert.equal(s.ship('TRACK-4004').code, 0);
    // A second server of the same subscription stages its own job: it cannot take that tracking number.
    const otherEnv = { DRIVESEED_HOME: join(s.dir, 'other-agent') };
    const otherData = join(s.dir, 'other-data');
    await writeData(otherData, 8);
    const otherStaging = join(s.dir, 'other-staging');
    assert.equal(cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--name', 'other-server'], otherEnv).code, 0);
    assert.equal(
      cli(
        ['agent', 'protect', otherData, '--offline', '--staging', otherStaging, '--job', 'seed-two', '--storage-account', 'seedacct', '--container', 'other'],
        otherEnv,
      ).code,
      0,
    );
    oneLine(
      cli(
        ['agent', 'protect', otherData, '--offline', '--staging', s.staging, '--job', JOB, '--storage-account', 'seedacct', '--container', 'seeds'],
        otherEnv,
      ),
      /staging directory of job seed-one of server .*, not this server's/,
    );
    json(cli(['agent', 'backup-now', '--json'], otherEnv));
    await mkdir(join(s.dir, 'other-drive'));
    json(
      cli(
        ['diskprep', '--staging', otherStaging, '--publish-settings', s.settings, '--drive', join(s.dir, 'other-drive'), '--capacity', '24MB', '--json'],
        otherEnv,
      ),
    );
    const dup = cli(
      ['diskprep', '--update-shipping', '--staging', otherStaging, '--publish-settings', s.settings, '--tracking', 'TRACK-4004', ...SHIPPING, '--yes'],
      otherEnv,
    );
    assert.equal(dup.code, 1);
    assert.match(dup.stderr.trim().split('\n').at(-1)!, /^driveseed: .*tracking number TRACK-4004 belongs to another import job/);
    await assert.rejects(stat(join(otherStaging, 'seed-two', 'shipping.json')), 'a refused entry is not stored');
    assert.equal(json(cli(['diskprep', '--status', '--staging', otherStaging, '--publish-settings', s.settings, '--json'], otherEnv)).job.state, 'Creating');
    assert.equal(s.ship('TRACK-4004').code, 0, 'a job may enter its own tracking number again');
    // A canceled job will never be imported: the agent says so instead of waiting forever.
    const owner = new ServiceClient(s.url, { ownerKey: s.bootstrap.ownerKey });
    await owner.request('cancelImportJob', { params: { subscriptionId: s.bootstrap.subscriptionId, jobName: 'seed-two' } });
    oneLine(cli(['agent', 'backup-now'], otherEnv), /import job seed-two was canceled.*protect again/);
  });

  it('a seed canceled after backups went on in transit: the next job seeds the same vault repository', async (t) => {
    const s = await staged(t, 16);
    await appendFile(join(s.data, 'docs', 'note-3.txt'), 'changed while the first drives waited\n');
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Waiting');
    json(s.diskprep([s.drives[0]], ['--json']));
    const owner = new ServiceClient(s.url, { ownerKey: s.bootstrap.ownerKey });
    await owner.request('cancelImportJob', { params: { subscriptionId: s.bootstrap.subscriptionId, jobName: JOB } });
    assert.notEqual(cli(['agent', 'backup-now'], s.env).code, 0);

    const again = ['--staging', s.staging, '--publish-settings', s.settings, '--job', 'seed-again'];
    assert.equal(
      cli(
        ['agent', 'protect', s.data, '--offline', '--staging', s.staging, '--job', 'seed-again', '--storage-account', 'seedacct', '--container', 'again'],
        s.env,
      ).code,
      0,
    );
    assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).kind, 'offline');
    json(cli(['diskprep', ...again, '--drive', s.drives[2], '--capacity', '200MB', '--json'], s.env));
    assert.equal(cli(['diskprep', '--update-shipping', ...again, '--tracking', 'TRACK-7007', ...SHIPPING, '--yes'], s.env).code, 0);
    json(cli(['datacenter', 'receive', '--data-dir', s.dataDir, '--job', 'seed-again', '--drive', s.drives[2], '--json']));
    const seeded = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(seeded.seed.job.state, 'Completed', 'the vault repository of the canceled seed is not "another repository"');
    await s.restoreMatches();
    assert.equal(cli(['check', '--repo', await s.vaultRepository(), '--read-data']).code, 0);
  });

  it('kill -9 during diskprep, during the import and during the vault copy: each rerun resumes and the vault ends complete', async (t) => {
    const s = await staged(t, 96);
    // diskprep: killed once the first file is journaled (onto the image file), then run again with the same drives.
    const killedPrep = cliAsync(
      ['diskprep', '--staging', s.staging, '--publish-settings', s.settings, '--job', JOB, '--drive', s.drives[1], s.drives[0], '--capacity', '80MB'],
      s.env,
    );
    await killWhen(killedPrep, async () => (await journalLines(join(s.staging, JOB, 'diskprep'))) >= 1);
    const journaled = await journalLines(join(s.staging, JOB, 'diskprep'));
    const prep = json(
      cli(
        [
          'diskprep',
          '--staging',
          s.staging,
          '--publish-settings',
          s.settings,
          '--job',
          JOB,
          '--drive',
          s.drives[1],
          s.drives[0],
          '--capacity',
          '80MB',
          '--json',
        ],
        s.env,
      ),
    );
    assert.equal(prep.job.state, 'Creating');
    assert.ok(journaled < prep.drives.reduce((n: number, d: { files: number }) => n + d.files, 0), 'the kill landed mid-run');
    assert.equal(s.ship('TRACK-5005').code, 0);

    // import: killed once files land in the container; the rerun takes the dead worker's drive over.
    const container = join(s.dataDir, 'blobs', 'accounts', 'seedacct', 'containers', 'seeds');
    const killedImport = cliAsync([
      'datacenter',
      'receive',
      '--data-dir',
      s.dataDir,
      '--job',
      JOB,
      '--drive',
      ...prep.drives.map((d: { path: string }) => d.path),
    ]);
    await killWhen(killedImport, async () => (await countFiles(container)) >= 1);
    const received = json(s.receive(prep.drives.map((d: { path: string }) => d.path)));
    assert.deepEqual(
      received.drives.map((d: { state: string }) => d.state).sort(),
      prep.drives.map(() => 'Completed'),
    );

    // vault copy: the service is killed while it copies the seed; the agent's run fails, the next one completes.
    const vault = await s.vaultRepository().catch(() => undefined);
    const seeding = cliAsync(['agent', 'backup-now', '--json'], { ...s.env, DRIVESEED_RETRY_SECONDS: '0' });
    const exited = new Promise((resolve) => seeding.once('exit', resolve));
    for (let i = 0; i < 2000 && !(await countFiles(vault ?? (await s.vaultRepository().catch(() => '')))); i++) await sleep(5);
    await s.kill();
    await exited;
    await assert.rejects(stat(join(await s.vaultRepository(), 'config')), 'the kill landed mid-copy (the config is copied last)');
    await s.restart();
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.equal(after.seed.copy.damaged.length, 0);
    await s.restoreMatches();
    assert.equal(cli(['check', '--repo', await s.vaultRepository(), '--read-data']).code, 0);
  });
});

async function killWhen(child: ReturnType<typeof cliAsync>, ready: () => Promise<boolean>): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !(await ready())) await sleep(5);
  assert.equal(done, false, 'the process finished before it could be killed: give it more data');
  child.kill('SIGKILL');
  await exited;
}

async function journalLines(dir: string): Promise<number> {
  let lines = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith('.journal')) lines += (await readFile(join(dir, name), 'utf8')).split('\n').filter(Boolean).length;
  }
  return lines;
}

async function countFiles(dir: string): Promise<number> {
  if (!dir) return 0;
  let n = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) if (entry.isFile()) n++;
  return n;
}
