import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareTrees } from '../core/backup/compare-trees.js';
import { writeSampleTree } from '../core/backup/sample-tree.js';
import { DriveseedError } from '../core/errors.js';
import { formatBytes } from './progress.js';

const BIN = fileURLToPath(new URL('../../../bin/driveseed.js', import.meta.url));
const JOB = 'demo-seed';
const STEPS = 14;

/**
 * The whole seed workflow on the embedded defaults, each step as the real command a user
 * would type (run as a child process against a service in this process), ending in a
 * byte-for-byte comparison of the restore with the source. `givenData` replaces the
 * generated tree.
 */
export async function runDemo(work: string, givenData: string | undefined): Promise<void> {
  let n = 0;
  const step = (text: string) => console.log(`\n[${++n}/${STEPS}] ${text}`);
  const password = join(work, 'password');
  await writeFile(password, 'driveseed demo password\n', { mode: 0o600 });
  const env = { DRIVESEED_HOME: join(work, 'agent'), DRIVESEED_PASSWORD: '' };
  const run = (args: string[]) => runCli(args, env);

  const data = givenData ?? join(work, 'data');
  if (!givenData) await generateData(data);
  const tree = await treeSize(data);
  step(`the server's data: ${tree.files} files, ${formatBytes(tree.bytes)} in ${data}`);

  const { startService } = await import('../service/start-service.js');
  const serviceDir = join(work, 'service');
  // The operator's CLI imports the drives below; no worker in this process competes with it.
  const service = await startService({
    dataDir: serviceDir,
    listen: '127.0.0.1:0',
    importWorker: false,
    shippingAddress: 'driveseed demo data centre, Dock 4, 1000 AA Amsterdam',
  });
  try {
    step(`service started at ${service.url} (SQLite and a blob directory in ${serviceDir})`);
    const settings = join(work, 'publish-settings.json');
    await run([
      'service',
      'publish-settings',
      '--service',
      service.url,
      '--subscription',
      service.bootstrap!.subscriptionId,
      '--owner-key',
      service.bootstrap!.ownerKey,
      '--out',
      settings,
    ]);

    step("identity: an application with a certificate (CertGen), its parameters in the agent's registry");
    await run(['certgen', 'create-app', '--publish-settings', settings, '--out', join(work, 'offline-app.json')]);
    await run(['certgen', 'add-registry', '--publish-settings', settings, '--params', join(work, 'offline-app.json'), '--storage-account', 'demoacct']);

    step('the agent registers with a vault and protects the data with offline seeding');
    await run(['agent', 'register', '--publish-settings', settings, '--vault', 'demo', '--password-file', password]);
    const staging = join(work, 'staging');
    await run(['agent', 'protect', data, '--offline', '--staging', staging, '--job', JOB, '--storage-account', 'demoacct', '--container', 'seed']);

    step('back up now: the first full backup goes to the staging directory, not over the network');
    await run(['agent', 'backup-now']);

    step('diskprep on the copy computer: the staged backup onto two encrypted drives (a mounted directory and an image file), then the import job');
    const drives = [join(work, 'drives', 'drive1'), join(work, 'drives', 'drive2.img')];
    await mkdir(drives[0], { recursive: true });
    await run([
      'diskprep',
      '--staging',
      staging,
      '--publish-settings',
      settings,
      '--job',
      JOB,
      '--drive',
      ...drives,
      '--capacity',
      String(await capacityForTwoDrives(join(staging, JOB, 'repository'))),
      '--yes',
    ]);

    step('shipping details, and the scheduled backup while the drives travel');
    await run(['diskprep', '--update-shipping', '--staging', staging, '--publish-settings', settings, '--job', JOB, ...demoShipping(), '--yes']);
    await run(['agent', 'backup-now']);

    step('the data centre receives the drives, verifies every block and imports them into the container');
    await run(['datacenter', 'receive', '--data-dir', serviceDir, '--job', JOB, '--drive', ...drives]);
    await run(['datacenter', 'ship-back', '--data-dir', serviceDir, '--job', JOB]);
    await run(['diskprep', '--status', '--staging', staging, '--publish-settings', settings, '--job', JOB]);

    step('a change on the server, then the next backup: seed completion in the vault, and an incremental over the network');
    const changed = await changeOneFile(data, givenData !== undefined);
    const output = await run(['agent', 'backup-now', '--json']);
    const result = JSON.parse(output) as {
      traffic: { sent: number; received: number };
      seed?: { copy: { copied: number; bytesCopied: number } };
      filesChanged: number;
      bytesSent: number;
    };
    console.log(`  seed: ${result.seed?.copy.copied ?? 0} files (${formatBytes(result.seed?.copy.bytesCopied ?? 0)}) copied inside the service`);
    console.log(
      `  incremental: ${result.filesChanged} changed file${changed ? ` (${changed})` : ''}; over the network: ${formatBytes(result.traffic.sent)} sent, ${formatBytes(result.traffic.received)} received` +
        ` = ${((100 * (result.traffic.sent + result.traffic.received)) / Math.max(1, tree.bytes)).toFixed(2)}% of the data`,
    );

    step('agent status');
    await run(['agent', 'status']);

    step('restore the latest recovery point from the vault and compare it with the source');
    const target = join(work, 'restore');
    await rm(target, { recursive: true, force: true });
    await run(['agent', 'restore', 'latest', '--target', target]);
    const diffs = await compareTrees(data, join(target, data));
    if (diffs.length > 0) throw new DriveseedError('CORRUPT', `the restore differs from the source: ${diffs.slice(0, 5).join('; ')}`);
    step(`the restore matches the source byte for byte (${tree.files} files, ${formatBytes(tree.bytes)})`);

    await recoverOnNewMachine(work, settings, password, data, step);
    await restoreByDrive(work, serviceDir, password, data, step);
    console.log('\ndemo finished: offline seed, import, seed completion, incremental, restore, disaster recovery and restore by drive all verified');
  } finally {
    await service.stop();
  }
}

/**
 * The day the server is gone: a new machine with nothing but the publish settings and the
 * password takes the server over (the old machine's certificate is revoked) and restores it.
 */
async function recoverOnNewMachine(work: string, settings: string, password: string, data: string, step: (text: string) => void): Promise<void> {
  step('disaster recovery: the server is lost; a new machine with only the publish settings and the password takes it over and restores it');
  const run = (args: string[]) => runCli(args, { DRIVESEED_HOME: join(work, 'new-machine'), DRIVESEED_PASSWORD: '' });
  await run(['agent', 'register', '--publish-settings', settings, '--vault', 'demo', '--recover', hostname(), '--password-file', password]);
  await run(['agent', 'recovery-points']);
  const target = join(work, 'restore-new-machine');
  await rm(target, { recursive: true, force: true });
  await run(['agent', 'restore', 'latest', '--target', target, '--password-file', password]);
  const diffs = await compareTrees(data, join(target, data));
  if (diffs.length > 0) throw new DriveseedError('CORRUPT', `the new machine's restore differs from the source: ${diffs.slice(0, 5).join('; ')}`);
  console.log("  the new machine's restore matches the source byte for byte");
}

/**
 * The other direction: the new machine asks for an export of the latest recovery point, the
 * data centre writes it onto two blank drives and ships them back, a byte flips on the way, and
 * the restore from the drives fetches only the damaged pack over the network.
 */
async function restoreByDrive(work: string, serviceDir: string, password: string, data: string, step: (text: string) => void): Promise<void> {
  step('restore by drive: an export job of the latest recovery point, written by the data centre onto two blank drives, one byte flipped on the way back');
  const run = (args: string[]) => runCli(args, { DRIVESEED_HOME: join(work, 'new-machine'), DRIVESEED_PASSWORD: '' });
  const job = 'demo-export';
  await run(['agent', 'export', '--job', job, 'latest', '--password-file', password, ...demoShipping()]);
  const drives = [join(work, 'export-drive1'), join(work, 'export-drive2.img')];
  await rm(drives[0], { recursive: true, force: true });
  await rm(drives[1], { force: true });
  await mkdir(drives[0]);
  const vault = join(serviceDir, 'blobs', 'vaults');
  const capacity = await capacityForTwoDrives(vault);
  await run(['datacenter', 'export', '--data-dir', serviceDir, '--job', job, '--drive', ...drives, '--capacity', String(capacity)]);
  await run(['datacenter', 'ship-back', '--data-dir', serviceDir, '--job', job, '--tracking', `RET-${randomBytes(4).toString('hex').toUpperCase()}`]);
  await flipOneByte(drives[0]);
  const target = join(work, 'restore-from-drives');
  await rm(target, { recursive: true, force: true });
  await run(['agent', 'restore', 'latest', '--from-drive', ...drives, '--target', target, '--password-file', password]);
  const diffs = await compareTrees(data, join(target, data));
  if (diffs.length > 0) throw new DriveseedError('CORRUPT', `the restore from the drives differs from the source: ${diffs.slice(0, 5).join('; ')}`);
  console.log('  the restore from the drives matches the source byte for byte');
}

/** A byte of the drive's largest payload file flips, as a drive can damage one in transit. */
async function flipOneByte(drive: string): Promise<void> {
  const payload = join(drive, 'payload');
  const files = await Promise.all((await readdir(payload)).map(async (name) => ({ name, size: (await stat(join(payload, name))).size })));
  const largest = files.sort((a, b) => b.size - a.size)[0];
  const handle = await open(join(payload, largest.name), 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, 100);
    byte[0] ^= 0x10;
    await handle.write(byte, 0, 1, 100);
  } finally {
    await handle.close();
  }
}

/** The shipping flags of the demo's packages (a fresh tracking number each). */
function demoShipping(): string[] {
  return [
    '--carrier',
    'DHL',
    '--tracking',
    `DEMO-${randomBytes(4).toString('hex').toUpperCase()}`,
    '--ship-date',
    new Date().toISOString().slice(0, 10),
    '--contact-name',
    'Demo Admin',
    '--phone',
    '+31 20 123 4567',
    '--email',
    'admin@example.org',
    '--return-address',
    'Dam 1, Amsterdam',
    '--country',
    'NL',
    '--postal-code',
    '1012 JS',
  ];
}

/** Runs the real CLI and shows what it prints, indented; a failing step stops the demo with its message. */
function runCli(args: string[], env: Record<string, string>): Promise<string> {
  console.log(`  $ driveseed ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    // In arrival order, as on a terminal; JSON output is parsed, not shown.
    let shown = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (!args.includes('--json')) shown += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => (shown += chunk));
    child.once('exit', (code) => {
      for (const line of shown.split('\n').filter((l) => l.trim())) console.log(`    ${line}`);
      if (code === 0) resolvePromise(stdout);
      else reject(new DriveseedError('IO', `demo step \`driveseed ${args.slice(0, 2).join(' ')}\` failed (exit ${code})`));
    });
  });
}

/** A generated tree with enough incompressible data that the seed spans two drives. */
async function generateData(dir: string): Promise<void> {
  await writeSampleTree(dir, 1, 300);
  await mkdir(join(dir, 'media'), { recursive: true });
  for (let i = 0; i < 4; i++) await writeFile(join(dir, 'media', `video-${i}.bin`), randomBytes(8 * 1024 * 1024));
}

async function changeOneFile(dir: string, userData: boolean): Promise<string | undefined> {
  if (userData) return undefined;
  const path = join(dir, 'dir1', 'sub1', 'file1.txt');
  await appendFile(path, '\nan edit after the seed was shipped\n');
  return path;
}

/** Files under `dir`: how many, their bytes, and the largest. */
async function treeSize(dir: string): Promise<{ files: number; bytes: number; largest: number }> {
  const tree = { files: 0, bytes: 0, largest: 0 };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const size = (await stat(join(entry.parentPath, entry.name))).size;
    tree.files++;
    tree.bytes += size;
    tree.largest = Math.max(tree.largest, size);
  }
  return tree;
}

/**
 * Room for half of the staged repository and its largest file: two drives, always. Files go
 * whole, so a drive is closed with less than one file's room left; 55% of the bytes (as
 * before) took three drives when the packs fell badly.
 */
async function capacityForTwoDrives(repository: string): Promise<number> {
  const { bytes, largest } = await treeSize(repository);
  return Math.ceil((bytes + largest) / 2) + 4 * 1024 * 1024;
}
