#!/usr/bin/env node
// Bytes over the network for the offline-seed workflow of a real tree: the offline backup,
// the waiting backup, seed completion and the incremental after the issue's ~1% change,
// each as reported by the agent (request and response bodies to and from the service).
// The goal: at most 2% of the tree's size in all. Then the way back: an export job of the
// latest recovery point written onto a drive, restored from it whole, and again with one byte
// flipped (only the damaged pack comes over the network); an online restore reads the export's
// whole list of files.
//
//   node bench/seed-bench.mjs [--source /usr/lib/x86_64-linux-gnu] [--work /tmp/seed-bench]
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startService } from '../dist/src/service/start-service.js';
import { applyChange, listFiles } from './tree-change.mjs';

const { values: args } = parseArgs({
  options: { source: { type: 'string', default: '/usr/lib/x86_64-linux-gnu' }, work: { type: 'string', default: '/tmp/seed-bench' } },
});
const BIN = new URL('../bin/driveseed.js', import.meta.url).pathname;
const work = args.work;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const data = join(work, 'data');
cpSync(args.source, data, { recursive: true, dereference: false, verbatimSymlinks: true });
const treeBytes = listFiles(data).reduce((n, f) => n + f.size, 0);
const env = { ...process.env, DRIVESEED_HOME: join(work, 'agent'), DRIVESEED_PASSWORD: 'seed bench' };

function driveseed(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.once('exit', (code) => (code === 0 || code === 3 ? resolve(out) : reject(new Error(`driveseed ${argv.join(' ')}: exit ${code}`))));
  });
}

const service = await startService({ dataDir: join(work, 'service'), listen: '127.0.0.1:0', importWorker: false });
const traffic = [];
const restores = [];
const SHIPPING = ['--carrier', 'DHL', '--ship-date', '2026-11-25', '--contact-name', 'Bench', '--phone', '+31 20 123 4567', '--email', 'bench@example.org'];
SHIPPING.push('--return-address', 'Dam 1', '--country', 'NL', '--postal-code', '1012');

/** A byte of the largest payload file flips, as a drive can damage one on its way back. */
function flipByteOfLargestPayload(payload) {
  const [largest] = readdirSync(payload)
    .map((name) => ({ path: join(payload, name), size: statSync(join(payload, name)).size }))
    .sort((a, b) => b.size - a.size);
  const bytes = readFileSync(largest.path);
  bytes[100] ^= 0x10;
  writeFileSync(largest.path, bytes);
}
const record = (what, out) => {
  const r = JSON.parse(out);
  traffic.push({ what, sent: r.traffic.sent, received: r.traffic.received });
};
try {
  const settings = join(work, 'publish.json');
  await driveseed([
    'service',
    'publish-settings',
    '--service',
    service.url,
    '--subscription',
    service.bootstrap.subscriptionId,
    '--owner-key',
    service.bootstrap.ownerKey,
    '--out',
    settings,
  ]);
  await driveseed(['agent', 'register', '--publish-settings', settings, '--vault', 'bench']);
  const staging = join(work, 'staging');
  await driveseed([
    'agent',
    'protect',
    data,
    '--offline',
    '--staging',
    staging,
    '--job',
    'bench-seed',
    '--storage-account',
    'benchacct',
    '--container',
    'seed',
  ]);
  record('offline backup to staging', await driveseed(['agent', 'backup-now', '--json']));
  mkdirSync(join(work, 'drive'));
  await driveseed(['diskprep', '--staging', staging, '--publish-settings', settings, '--drive', join(work, 'drive'), '--capacity', '2TB', '--json']);
  await driveseed([
    'diskprep',
    '--update-shipping',
    '--staging',
    staging,
    '--publish-settings',
    settings,
    '--carrier',
    'DHL',
    '--tracking',
    `BENCH-${Date.now()}`,
    '--ship-date',
    '2026-11-25',
    '--contact-name',
    'Bench',
    '--phone',
    '+31 20 123 4567',
    '--email',
    'bench@example.org',
    '--return-address',
    'Dam 1',
    '--country',
    'NL',
    '--postal-code',
    '1012',
    '--yes',
  ]);
  record('backup while the drives travel', await driveseed(['agent', 'backup-now', '--json']));
  await driveseed(['datacenter', 'receive', '--data-dir', join(work, 'service'), '--job', 'bench-seed', '--drive', join(work, 'drive')]);
  applyChange(data, 1);
  record('seed completion + incremental after ~1% change', await driveseed(['agent', 'backup-now', '--json']));
  applyChange(data, 2);
  record('next incremental after another ~1% change', await driveseed(['agent', 'backup-now', '--json']));

  const exported = JSON.parse(
    await driveseed(['agent', 'export', '--job', 'bench-export', 'latest', ...SHIPPING, '--tracking', `BENCH-X-${Date.now()}`, '--json']),
  );
  restores.push({ what: 'online restore (the files an export carries)', bytes: exported.bytes });
  const exportDrive = join(work, 'export-drive');
  mkdirSync(exportDrive);
  await driveseed([
    'datacenter',
    'export',
    '--data-dir',
    join(work, 'service'),
    '--job',
    'bench-export',
    '--drive',
    exportDrive,
    '--capacity',
    '2TB',
    '--json',
  ]);
  const fromDrive = async (what) => {
    const target = join(work, 'restored');
    rmSync(target, { recursive: true, force: true });
    const r = JSON.parse(await driveseed(['agent', 'restore', 'latest', '--from-drive', exportDrive, '--target', target, '--heal-limit', '1TB', '--json']));
    restores.push({ what, bytes: r.traffic.sent + r.traffic.received, healed: r.overNetwork.bytes });
  };
  await fromDrive('restore from the export drive');
  flipByteOfLargestPayload(join(exportDrive, 'payload'));
  await fromDrive('restore from the drive, one byte flipped');
} finally {
  await service.stop();
}
const mb = (n) => (n / 1e6).toFixed(2).padStart(9) + ' MB';
console.log(`tree: ${args.source}, ${mb(treeBytes)}`);
for (const t of traffic) {
  console.log(`${t.what.padEnd(50)} sent ${mb(t.sent)}  received ${mb(t.received)}`);
}
const seedTotal = traffic.slice(0, 3).reduce((n, t) => n + t.sent + t.received, 0);
console.log(`seed workflow incl. the first incremental: ${mb(seedTotal)} = ${((100 * seedTotal) / treeBytes).toFixed(2)}% of the tree (goal ≤ 2%)`);
for (const r of restores) console.log(`${r.what.padEnd(50)} over the network ${mb(r.bytes)}${r.healed !== undefined ? ` (healed packs ${mb(r.healed)})` : ''}`);
rmSync(work, { recursive: true, force: true });
