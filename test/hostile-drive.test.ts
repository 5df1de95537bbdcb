import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceClient } from '../src/api/service-client.js';
import { backup } from '../src/core/backup/archiver.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { Repository } from '../src/core/repo/repository.js';
import { prepareDrives, type PreparedDrive } from '../src/core/envelope/drive-writer.js';
import { MANIFEST_FILE, HEADER_FILE, openManifest, sealManifest, sha256, type Manifest } from '../src/core/envelope/envelope-format.js';
import { startService } from '../src/service/start-service.js';
import { FsStore } from '../src/core/storage/fs/fs-store.js';
import { listAll } from '../src/core/storage/blob-store.js';
import { cliAsync, PASSWORD, tempDir, type CliResult } from './cli-harness.js';
import { shippingDetails } from './service-harness.js';

/*
 * A customer knows its drive keys and can craft any drive (issue 15, items 3 to 5): the
 * import opens only regular files inside the drive, never blocks, bounds what it reads,
 * checks every length before it writes, and tells the customer nothing about the host. The
 * service answers /health throughout, and its import worker goes on to the next drive.
 */

/** A service with its own import worker, as a provider runs it, and the customer's owner client. */
async function provider(t: any) {
  const dir = await tempDir(t, 'driveseed-hostile-drive-');
  const dataDir = join(dir, 'service');
  const service = await startService({ dataDir, listen: '127.0.0.1:0' });
  t.after(() => service.stop());
  const owner = new ServiceClient(service.url, { ownerKey: service.bootstrap!.ownerKey });
  const subscriptionId = service.bootstrap!.subscriptionId;
  await owner.request('ensureStorageAccount', { params: { subscriptionId, account: 'seedacct' } });
  const data = join(dir, 'data');
  await writeSampleTree(data, 4, 20);
  const staging = new FsStore(join(dir, 'staging'));
  await backup(await Repository.init(staging, PASSWORD), { paths: [data] });
  let drives = 0;
  /** One directory drive of the staged backup, edited as the customer likes, registered with what the customer says. */
  const craftedJob = async (jobName: string, craft: (c: Crafting) => Promise<Partial<Registered> | void> = async () => undefined) => {
    const path = join(dir, `drive${++drives}`);
    await mkdir(path);
    const [drive] = (await prepareDrives({ staging, jobName, drives: [{ path, capacity: 1e9 }], stateDir: join(dir, `state-${jobName}`) })).drives;
    const key = Buffer.from(drive.key, 'base64');
    const manifest = openManifest(key, drive.driveId, await readFile(join(path, MANIFEST_FILE)));
    const c: Crafting = { drive, manifest, reseal: true };
    const overrides = (await craft(c)) ?? {};
    let manifestSha256 = drive.manifestSha256;
    if (c.reseal) {
      const sealed = sealManifest(key, c.manifest);
      await writeFile(join(path, MANIFEST_FILE), sealed);
      manifestSha256 = sha256(sealed);
    }
    const registered: Registered = { manifestSha256, files: c.manifest.files.length, bytes: c.manifest.files.reduce((n, f) => n + f.length, 0), ...overrides };
    await owner.request('createImportJob', {
      params: { subscriptionId },
      body: { name: jobName, storageAccount: 'seedacct', container: jobName, drives: [{ driveId: drive.driveId, key: drive.key, ...registered }] },
    });
    await owner.request('setShipping', { params: { subscriptionId, jobName }, body: shippingDetails(`TRK-${jobName}`) });
    return { path, driveId: drive.driveId };
  };
  const health = async () => {
    const answer = await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(answer.status, 200, '/health answers');
  };
  /** The drive received (queued only) by the data centre's CLI, then imported by the service's worker. */
  const imported = async (jobName: string, drivePath: string) => {
    const r = await cliWithin(20_000, ['datacenter', 'receive', '--data-dir', dataDir, '--job', jobName, '--drive', drivePath, '--queue-only']);
    assert.equal(r.code, 0, r.stderr);
    for (const deadline = Date.now() + 30_000; ;) {
      await health();
      const job = await owner.request('getImportJob', { params: { subscriptionId, jobName } });
      const drive = job.drives[0];
      if (drive.state === 'Completed' || drive.state === 'CompletedMoreInfo') {
        const logs = await owner.request('driveLogs', { params: { subscriptionId, jobName, driveId: drive.driveId } });
        const container = await listAll(new FsStore(join(dataDir, 'blobs', 'accounts', 'seedacct', 'containers', jobName)), '');
        return { state: drive.state, errorLog: logs.errorLog ?? '', verboseLog: logs.verboseLog ?? '', container: container.map((b) => b.name).sort() };
      }
      assert.ok(Date.now() < deadline, `drive of ${jobName} still ${drive.state} after 30 s: the import hangs`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  return { dir, dataDir, craftedJob, imported, health };
}

interface Crafting {
  drive: PreparedDrive;
  manifest: Manifest;
  /** Seal the edited manifest and register its hash (true), or leave the drive's manifest as diskprep wrote it. */
  reseal: boolean;
}

interface Registered {
  manifestSha256: string;
  files: number;
  bytes: number;
}

/** The CLI, killed if it has not finished within `ms`: a hang is a failure, not a stuck test. */
async function cliWithin(ms: number, args: string[]): Promise<CliResult & { hung: boolean }> {
  const child = cliAsync(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, ms);
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? -1)));
  clearTimeout(timer);
  return { code, stdout, stderr, hung };
}

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/** What no line of a customer's drive log may hold: the data centre's own paths. */
function assertNoHostFacts(log: string, ...hostPaths: string[]): void {
  for (const p of hostPaths) assert.ok(!log.includes(p), `the drive log shows the host path ${p}:\n${log}`);
  assert.doesNotMatch(log, /ENAMETOOLONG|ENOENT|EACCES|\/etc\//, log);
}

describe('the import treats a drive as hostile', () => {
  it('a manifest that is a FIFO fails the drive in one line; the worker goes on to the next drive', { timeout: 120_000 }, async (t) => {
    const p = await provider(t);
    const fifo = await p.craftedJob('fifo-manifest', async (c) => {
      c.reseal = false;
      await rm(join(c.drive.path, MANIFEST_FILE));
      mkfifo(join(c.drive.path, MANIFEST_FILE));
    });
    const honest = await p.craftedJob('after-fifo');
    const bad = await p.imported('fifo-manifest', fifo.path);
    assert.equal(bad.state, 'CompletedMoreInfo');
    assert.match(bad.errorLog, /^\(drive\): drive [0-9a-f-]+: manifest\.sealed is not a regular file on the drive/);
    assertNoHostFacts(bad.errorLog, p.dir);
    const good = await p.imported('after-fifo', honest.path);
    assert.equal(good.state, 'Completed', good.errorLog);
  });

  it(
    'a header that is a FIFO or null, or a drive that is a FIFO, is refused by `datacenter receive` in one line instead of hanging',
    { timeout: 120_000 },
    async (t) => {
      const p = await provider(t);
      const drive = await p.craftedJob('fifo-header');
      await rm(join(drive.path, HEADER_FILE));
      mkfifo(join(drive.path, HEADER_FILE));
      const r = await cliWithin(20_000, ['datacenter', 'receive', '--data-dir', p.dataDir, '--job', 'fifo-header', '--drive', drive.path]);
      assert.equal(r.hung, false, 'receive hung on a FIFO header');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^driveseed: .*driveseed-drive\.json is not a regular file on the drive \(the import reads nothing else\)\n$/);
      await rm(join(drive.path, HEADER_FILE));
      await writeFile(join(drive.path, HEADER_FILE), 'null');
      const n = await cliWithin(20_000, ['datacenter', 'receive', '--data-dir', p.dataDir, '--job', 'fifo-header', '--drive', drive.path]);
      assert.match(n.stderr, /^driveseed: .* is not a driveseed drive\n$/);
      const fifoDrive = join(p.dir, 'drive-fifo.img');
      mkfifo(fifoDrive);
      const f = await cliWithin(20_000, ['datacenter', 'receive', '--data-dir', p.dataDir, '--job', 'fifo-header', '--drive', fifoDrive]);
      assert.equal(f.hung, false, 'receive hung on a FIFO given as the drive');
      assert.match(f.stderr, /^driveseed: .*volume not found \(neither a mounted directory nor an image file\)\n$/);
      await p.health();
    },
  );

  it(
    'a payload file that is a FIFO or a symlink to a host file is not opened; the rest imports and the report counts exactly the container',
    { timeout: 120_000 },
    async (t) => {
      const p = await provider(t);
      const secret = join(p.dir, 'host-secret');
      await writeFile(secret, 'a file of the data centre');
      let fifoName = '';
      let linkName = '';
      const drive = await p.craftedJob('fifo-payload', async (c) => {
        c.reseal = false;
        const [a, b] = c.manifest.files.filter((f) => f.name !== 'config');
        fifoName = a.name;
        linkName = b.name;
        await rm(join(c.drive.path, a.storedAs));
        mkfifo(join(c.drive.path, a.storedAs));
        await rm(join(c.drive.path, b.storedAs));
        await symlink(secret, join(c.drive.path, b.storedAs));
      });
      const r = await p.imported('fifo-payload', drive.path);
      assert.equal(r.state, 'CompletedMoreInfo');
      assert.match(r.errorLog, new RegExp(`^${fifoName}: payload/\\d+ is not a regular file on the drive \\(the import reads nothing else\\)$`, 'm'));
      assert.match(r.errorLog, new RegExp(`^${linkName}: payload/\\d+ is not a regular file on the drive \\(the import reads nothing else\\)$`, 'm'));
      assertNoHostFacts(r.errorLog, p.dir);
      assert.ok(!r.container.includes(fifoName) && !r.container.includes(linkName));
      const imported = r.verboseLog.split('\n').filter((l) => / blocks verified$/.test(l)).length;
      assert.equal(imported, r.container.length, 'the verbose log lists exactly the files the container holds');
      assert.ok(imported > 0, 'the other files imported');
    },
  );

  it('a payload folder that is a symlink to a host folder is not read through', { timeout: 120_000 }, async (t) => {
    const p = await provider(t);
    const drive = await p.craftedJob('payload-link', async (c) => {
      c.reseal = false;
      const moved = join(p.dir, 'moved-payload');
      execFileSync('mv', [join(c.drive.path, 'payload'), moved]);
      await symlink(moved, join(c.drive.path, 'payload'));
    });
    const r = await p.imported('payload-link', drive.path);
    assert.equal(r.state, 'CompletedMoreInfo');
    assert.deepEqual(r.container, []);
    assert.match(r.errorLog, /: payload is not a directory on the drive/);
    assertNoHostFacts(r.errorLog, p.dir);
  });

  it('a 20 KB drive cannot make a 200 MiB file: lengths must agree with the blocks and the bytes on the drive', { timeout: 120_000 }, async (t) => {
    const p = await provider(t);
    const big = 200 * 1024 * 1024;
    const noBlocks = await p.craftedJob('no-blocks', async (c) => {
      c.manifest.files = [{ ...c.manifest.files.find((f) => f.name === 'config')!, length: big, blocks: [] }];
    });
    const r1 = await p.imported('no-blocks', noBlocks.path);
    assert.equal(r1.state, 'CompletedMoreInfo');
    assert.match(r1.errorLog, /manifest of drive [0-9a-f-]+: file 0 \(config\) does not list one check value for each of its 50 blocks/);
    assert.deepEqual(r1.container, []);

    const fakeBlocks = await p.craftedJob('fake-blocks', async (c) => {
      const config = c.manifest.files.find((f) => f.name === 'config')!;
      c.manifest.files = [{ ...config, length: big, blocks: Array.from({ length: 50 }, () => config.blocks[0]) }];
    });
    const r2 = await p.imported('fake-blocks', fakeBlocks.path);
    assert.match(r2.errorLog, /^config: truncated: the file is shorter than the manifest says \(payload\/\d+\)$/m);
    assert.deepEqual(r2.container, []);
  });

  it('a manifest that lists more than the job registered is refused before anything is written', { timeout: 120_000 }, async (t) => {
    const p = await provider(t);
    const drive = await p.craftedJob('over-registered', async (c) => ({ files: c.manifest.files.length - 1, bytes: 10 }));
    const r = await p.imported('over-registered', drive.path);
    assert.equal(r.state, 'CompletedMoreInfo');
    assert.match(r.errorLog, /lists \d+ files of \d+ bytes; the job registered \d+ files of 10 bytes/);
    assert.deepEqual(r.container, []);
  });

  it('storedAs never reaches a host path, and the log says the same whether that host file exists or not', { timeout: 120_000 }, async (t) => {
    const p = await provider(t);
    const logs: string[] = [];
    for (const [job, storedAs] of [
      ['host-etc', '/etc/passwd'],
      ['host-none', '/nonexistent/file'],
      ['host-up', '../../../../../../etc/hostname'],
    ]) {
      const drive = await p.craftedJob(job, async (c) => {
        c.manifest.files[0] = { ...c.manifest.files[0], storedAs };
      });
      const r = await p.imported(job, drive.path);
      assert.equal(r.state, 'CompletedMoreInfo');
      assert.deepEqual(r.container, []);
      assertNoHostFacts(r.errorLog, p.dir);
      logs.push(r.errorLog.replace(/drive [0-9a-f-]{36}/, 'drive D'));
    }
    assert.match(logs[0], /file 0 \(config\) is not stored in the drive's payload folder/);
    assert.equal(new Set(logs).size, 1, `the logs differ:\n${logs.join('\n')}`);
  });

  it('a bad name fails the whole drive and leaves nothing in the container; a name too long shows no host path', { timeout: 120_000 }, async (t) => {
    const p = await provider(t);
    for (const [job, name] of [
      ['bad-name', '../outside'],
      ['long-name', `data/ab/${'a'.repeat(300)}`],
      ['not-repo', 'data/zz/not-a-pack'],
    ]) {
      const drive = await p.craftedJob(job, async (c) => {
        const last = c.manifest.files.length - 1;
        c.manifest.files[last] = { ...c.manifest.files[last], name };
      });
      const r = await p.imported(job, drive.path);
      assert.equal(r.state, 'CompletedMoreInfo');
      assert.match(r.errorLog, /is not named as a repository file/);
      assert.deepEqual(r.container, [], `${job}: files were written beside the bad one`);
      assertNoHostFacts(r.errorLog, p.dir, p.dataDir);
    }
    assert.deepEqual(await readdir(join(p.dir)).then((e) => e.includes('outside')), false);
  });
});
