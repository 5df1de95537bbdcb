#!/usr/bin/env node
// Service benchmark: online backup throughput into the vault (local blob store and Azurite)
// as a ratio to a local-repository backup of the same data in the same run, and requests
// per second for a small authenticated metadata call under 50 concurrent clients.
// With Azurite, packs go straight to blob storage on URLs the service signs; the same backup
// with DRIVESEED_DIRECT_BLOBS=off (packs through the service) is measured for comparison.
// Each run measures every path once, in turn, so a busy machine weighs on all of them alike;
// the medians over --runs are the figures to quote.
//
//   node bench/service-bench.mjs [--data DIR] [--runs 3] [--seconds 10]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startAzurite, freePort } from '../dist/src/testing/azurite.js';
import { Settler } from './settle.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'driveseed.js');
const { values: args } = parseArgs({ options: { data: { type: 'string', default: '/usr/lib/x86_64-linux-gnu' }, seconds: { type: 'string', default: '10' }, runs: { type: 'string', default: '3' } } });
const work = mkdtempSync(join(tmpdir(), 'service-bench-'));
const PASSWORD = 'bench password';

function run(argv, env = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...argv], { env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, stdout: r.stdout };
}

async function startService(name, extra = [], env = {}) {
  const dataDir = join(work, name);
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'service', 'start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, ...extra], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.on('data', (c) => String(c).includes('listening on') && resolve()));
  const bootstrap = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8'));
  return { child, url: `http://127.0.0.1:${port}`, bootstrap, dataDir };
}

async function onlineBackup(name, extra = [], env = {}, agentExtraEnv = {}) {
  const service = await startService(name, extra, env);
  const home = join(work, `${name}-agent`);
  const agentEnv = { DRIVESEED_HOME: home, ...env, ...agentExtraEnv };
  const settings = join(work, `${name}-publish.json`);
  run(['service', 'publish-settings', '--service', service.url, '--subscription', service.bootstrap.subscriptionId, '--owner-key', service.bootstrap.ownerKey, '--out', settings], agentEnv);
  run(['agent', 'register', '--publish-settings', settings, '--vault', 'bench'], agentEnv);
  run(['agent', 'protect', args.data], agentEnv);
  settleDisk();
  const backup = run(['agent', 'backup-now', '--json'], agentEnv);
  return { service, agentEnv, seconds: backup.seconds, job: JSON.parse(backup.stdout) };
}

/**
 * Every timed backup starts from the same machine state (bench/settle.mjs, as the engine bench
 * does): written-back data — on this disk (mounted with `discard`) a deletion's discards, and
 * the writeback of the backup before, otherwise landed in whichever backup ran next — and no
 * free memory to write into. Each run deletes the repositories of the one before, and on this
 * VM a freed page costs 4–9 µs when next written: copying packs into the page cache was 41% of
 * the service's CPU samples in an online backup (perf), paid by whichever process wrote first.
 */
let settler;
function settleDisk() {
  settler.settle();
}

let localBytes = 0;

/** One of each backup, fresh repositories and services, in the same order every run. */
async function oneRun(i) {
  const local = join(work, `local-repo-${i}`);
  run(['init', '--repo', local]);
  settleDisk();
  const localBackup = run(['backup', '--repo', local, args.data, '--json']);
  localBytes = JSON.parse(localBackup.stdout).bytesRead;
  rmSync(local, { recursive: true, force: true });
  const fs = await onlineBackup(`fs-${i}`);
  const azurite = await startAzurite();
  const azureEnv = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString };
  const az = await onlineBackup(`azure-${i}`, ['--blob', `azure:bench-${i}`], azureEnv);
  az.service.child.kill();
  const viaService = await onlineBackup(`azure-via-${i}`, ['--blob', `azure:via-${i}`], azureEnv, { DRIVESEED_DIRECT_BLOBS: 'off' });
  viaService.service.child.kill();
  await azurite.stop();
  const seconds = { local: localBackup.seconds, fs: fs.seconds, azure: az.seconds, azureViaService: viaService.seconds };
  console.log(
    `run ${i}: local ${seconds.local.toFixed(2)} s; online fs ${seconds.fs.toFixed(2)} s (${(seconds.local / seconds.fs).toFixed(2)}×); ` +
      `Azurite direct ${seconds.azure.toFixed(2)} s (${(seconds.local / seconds.azure).toFixed(2)}×); Azurite via service ${seconds.azureViaService.toFixed(2)} s (${(seconds.local / seconds.azureViaService).toFixed(2)}×)`,
  );
  return { seconds, fs };
}

function medianOf(values) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor((v.length - 1) / 2)];
}

async function main() {
  settler = new Settler(work);
  execWarm();
  const runs = Number(args.runs);
  const rows = [];
  let fs;
  for (let i = 1; i <= runs; i++) {
    const row = await oneRun(i);
    rows.push(row.seconds);
    fs?.service.child.kill();
    fs = row.fs;
  }
  const median = (key) => medianOf(rows.map((r) => r[key]));
  const local = median('local');
  console.log(`\nmedians of ${runs} runs (${(localBytes / 1e6).toFixed(0)} MB read from ${args.data}):`);
  console.log(`  local repository:                 ${local.toFixed(2)} s (${(localBytes / 1e6 / local).toFixed(0)} MB/s)`);
  for (const [key, label] of [['fs', 'online, service on local files:  '], ['azure', 'online, Azurite, packs direct:   '], ['azureViaService', 'online, Azurite, via the service:']]) {
    const ratios = rows.map((r) => r.local / r[key]);
    console.log(`  ${label} ${median(key).toFixed(2)} s — ${(local / median(key)).toFixed(2)}× the local throughput (per-run ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}, median ${medianOf(ratios).toFixed(2)}×)`);
  }

  // A small authenticated metadata call: the server's status (jobs, recovery points) with a bearer token.
  const token = await bearerToken(fs);
  const config = JSON.parse(readFileSync(join(fs.agentEnv.DRIVESEED_HOME, 'config.json'), 'utf8')).registration;
  const path = `/v1/subscriptions/${config.subscriptionId}/vaults/${config.vault}/servers/${config.serverId}`;
  const results = [];
  for (const [label, url, headers] of [['GET /health', `${fs.service.url}/health`, {}], [`GET server status (bearer)`, `${fs.service.url}${path}`, { authorization: `Bearer ${token}` }]]) {
    const r = await autocannon({ url, connections: 50, duration: Number(args.seconds), headers });
    results.push(`${label}: ${medianOf([r.requests.average, r.requests.mean])?.toFixed(0)} req/s average, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${r.non2xx} non-2xx`);
  }
  for (const line of results) console.log(`50 concurrent clients, ${args.seconds} s — ${line}`);
  fs.service.child.kill();
  settler.close();
  rmSync(work, { recursive: true, force: true });
}

/** The agent's own token, fetched the way the agent does it. */
async function bearerToken(fs) {
  process.env.DRIVESEED_HOME = fs.agentEnv.DRIVESEED_HOME;
  const { loadAgentConfig, loadCertificate } = await import('../dist/src/agent/agent-config.js');
  const { signClientAssertion } = await import('../dist/src/agent/certificates.js');
  const config = await loadAgentConfig();
  const appId = config.registration.applicationId;
  const cert = await loadCertificate(config.applicationCertThumbprints[appId]);
  const assertion = await signClientAssertion(appId, `${fs.service.url}/v1/token`, cert);
  const response = await fetch(`${fs.service.url}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: appId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
  });
  return (await response.json()).access_token;
}

function execWarm() {
  spawnSync('sh', ['-c', `find ${args.data} -type f -exec cat {} + > /dev/null 2>&1`]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
