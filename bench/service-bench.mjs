#!/usr/bin/env node
// Service benchmark: online backup throughput into the vault (local blob store and Azurite)
// as a ratio to a local-repository backup of the same data in the same run, and requests
// per second for a small authenticated metadata call under 50 concurrent clients.
// The paths measured: the service on local files, over HTTP and over HTTPS (what a deployment
// off loopback runs); Azurite with packs straight to blob storage on URLs the service signs,
// and with DRIVESEED_DIRECT_BLOBS=off (packs through the service); and Azurite keeping blobs in
// memory. Azurite runs on the agent's cores here, which real blob storage never does: the CPU
// seconds printed for each process show what it takes.
// Each run measures every path once, in turn, so a busy machine weighs on all of them alike;
// the medians over --runs are the figures to quote.
//
// Then requests per second through Debian's HAProxy to one instance and to two, both on one
// PostgreSQL (and Azurite): what a second instance adds on this machine.
//
//   node bench/service-bench.mjs [--data DIR] [--runs 3] [--seconds 10] [--only balanced]
//
// --only balanced runs the HAProxy section alone. Run benches one at a time:
//   flock /tmp/driveseed-bench.lock npm run bench:service
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startAzurite, freePort } from '../dist/src/testing/azurite.js';
import { startHaproxy } from '../dist/src/testing/haproxy.js';
import { startPostgres } from '../dist/src/testing/postgres.js';
import { createLoopbackServerCertificate } from '../dist/src/testing/tls-certificate.js';
import { Settler } from './settle.mjs';
import { CLIENT_ASSERTION_TYPE } from '../dist/src/api/contract.js';
import { routePath, routes } from '../dist/src/api/routes.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'driveseed.js');
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '/usr/lib/x86_64-linux-gnu' },
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const work = mkdtempSync(join(tmpdir(), 'service-bench-'));
const PASSWORD = 'bench password';

/**
 * CPU seconds from /proc: a process's own (`pid`), or, for 'children', everything this
 * process's waited-for children used. On a 2-core machine every process of an online backup
 * (agent, service, Azurite) takes from the same cores, so the bench shows who took what.
 */
const CLOCK_TICKS = 100;
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid === 'children' ? 'self' : pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  const [user, system] = pid === 'children' ? [fields[13], fields[14]] : [fields[11], fields[12]];
  return (Number(user) + Number(system)) / CLOCK_TICKS;
}

/** Runs the CLI; `cpu` is the CPU seconds of the command itself and of `watch`ed processes. */
function run(argv, env = {}, watch = {}) {
  const before = Object.fromEntries(Object.entries(watch).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const agentBefore = cpuSeconds('children');
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...argv], {
    env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD, ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  const cpu = { agent: cpuSeconds('children') - agentBefore };
  for (const [name, pid] of Object.entries(watch)) cpu[name] = cpuSeconds(pid) - before[name];
  return { seconds, cpu, stdout: r.stdout };
}

async function startService(name, extra = [], env = {}) {
  const dataDir = join(work, name);
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'service', 'start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, ...extra], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.on('data', (c) => String(c).includes('listening on') && resolve()));
  // Of several instances on one database, only the first start writes a bootstrap file.
  const bootstrapFile = join(dataDir, 'bootstrap.json');
  const bootstrap = existsSync(bootstrapFile) ? JSON.parse(readFileSync(bootstrapFile, 'utf8')) : undefined;
  return { child, url: `${extra.includes('--tls-cert') ? 'https' : 'http'}://127.0.0.1:${port}`, bootstrap, dataDir };
}

async function onlineBackup(name, extra = [], env = {}, agentExtraEnv = {}, azurite) {
  const service = await startService(name, extra, env);
  const home = join(work, `${name}-agent`);
  const agentEnv = { DRIVESEED_HOME: home, ...env, ...agentExtraEnv };
  const settings = join(work, `${name}-publish.json`);
  run(
    [
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
    ],
    agentEnv,
  );
  run(['agent', 'register', '--publish-settings', settings, '--vault', 'bench'], agentEnv);
  run(['agent', 'protect', args.data], agentEnv);
  settleDisk();
  const watch = azurite ? { service: service.child.pid, azurite: azurite.pid } : { service: service.child.pid };
  const backup = run(['agent', 'backup-now', '--json'], agentEnv, watch);
  return { service, agentEnv, seconds: backup.seconds, cpu: backup.cpu, job: JSON.parse(backup.stdout) };
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

const PATHS = [
  ['fs', 'online, service on local files:'],
  ['fsHttps', 'online, the same over HTTPS:'],
  ['azure', 'online, Azurite, packs direct:'],
  ['azureViaService', 'online, Azurite, via the service:'],
  ['azureInMemory', 'online, Azurite in memory, direct:'],
];
const LABEL_WIDTH = 35;
/** Restores timed: from the local repository, and back from the vault on the two main paths. */
const RESTORE_PATHS = [
  ['fs', 'from the service on local files'],
  ['azure', 'from Azurite, packs direct'],
];

/** Restores the latest recovery point into a fresh directory: the seconds it took. */
function timedRestore(argv, env = {}) {
  const target = join(work, 'restore-target');
  settleDisk();
  const seconds = run([...argv, '--target', target], env).seconds;
  rmSync(target, { recursive: true, force: true });
  return seconds;
}

/**
 * An online backup into a fresh Azurite: packs straight to it, or (direct off) through the
 * service; with `restore`, the restore that reads them back is timed too.
 */
async function azuriteBackup(name, { inMemory = false, direct = true, restore = false } = {}) {
  const azurite = await startAzurite({ inMemory });
  try {
    const azureEnv = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString };
    const agentEnv = direct ? {} : { DRIVESEED_DIRECT_BLOBS: 'off' };
    const backup = await onlineBackup(name, ['--blob', `azure:${name}`], azureEnv, agentEnv, azurite);
    if (restore) backup.restoreSeconds = timedRestore(['agent', 'restore', 'latest'], backup.agentEnv);
    backup.service.child.kill();
    return backup;
  } finally {
    await azurite.stop();
  }
}

/** One of each backup, fresh repositories and services, in the same order every run. */
async function oneRun(i) {
  const local = join(work, `local-repo-${i}`);
  run(['init', '--repo', local]);
  settleDisk();
  const localBackup = run(['backup', '--repo', local, args.data, '--json']);
  localBytes = JSON.parse(localBackup.stdout).bytesRead;
  const restores = { local: timedRestore(['restore', 'latest', '--repo', local]) };
  rmSync(local, { recursive: true, force: true });
  const fs = await onlineBackup(`fs-${i}`);
  restores.fs = timedRestore(['agent', 'restore', 'latest'], fs.agentEnv);
  const fsHttps = await onlineBackup(`https-${i}`, ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile], { NODE_EXTRA_CA_CERTS: tls.certFile });
  fsHttps.service.child.kill();
  const backups = {
    local: localBackup,
    fs,
    fsHttps,
    azure: await azuriteBackup(`direct-${i}`, { restore: true }),
    azureViaService: await azuriteBackup(`via-${i}`, { direct: false }),
    azureInMemory: await azuriteBackup(`memory-${i}`, { inMemory: true }),
  };
  const seconds = Object.fromEntries(Object.entries(backups).map(([key, b]) => [key, b.seconds]));
  const cpu = Object.fromEntries(Object.entries(backups).map(([key, b]) => [key, b.cpu]));
  const paths = PATHS.map(
    ([key, label]) =>
      `${label.replace(/^online, |:\s*$/g, '')} ${seconds[key].toFixed(2)} s (${(seconds.local / seconds[key]).toFixed(2)}×, ${cpuLine(cpu[key])})`,
  );
  restores.azure = backups.azure.restoreSeconds;
  console.log(`run ${i}: local ${seconds.local.toFixed(2)} s (${cpuLine(cpu.local)}); ${paths.join('; ')}`);
  console.log(
    `run ${i} restores: local ${restores.local.toFixed(2)} s; ${RESTORE_PATHS.map(([key, label]) => `${label} ${restores[key].toFixed(2)} s (${(restores.local / restores[key]).toFixed(2)}×)`).join('; ')}`,
  );
  return { seconds, cpu, restores, fs };
}

function cpuRatio(local, online, counted) {
  const total = (cpu) => Object.entries(cpu).reduce((sum, [name, seconds]) => sum + (counted(name) ? seconds : 0), 0);
  return `${(total(local) / total(online)).toFixed(2)}×`;
}

function cpuLine(cpu) {
  return (
    Object.entries(cpu)
      .map(([name, seconds]) => `${name} ${seconds.toFixed(2)}`)
      .join(' + ') + ' CPU-s'
  );
}

function medianOf(values) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor((v.length - 1) / 2)];
}

/** A loopback certificate for the HTTPS path, trusted by the agent through NODE_EXTRA_CA_CERTS. */
let tls;
async function writeLoopbackCertificate() {
  const { cert, key } = await createLoopbackServerCertificate();
  const files = { certFile: join(work, 'service.crt'), keyFile: join(work, 'service.key') };
  writeFileSync(files.certFile, cert);
  writeFileSync(files.keyFile, key, { mode: 0o600 });
  return files;
}

/**
 * The same metadata call through HAProxy to one instance, then to two (round robin), on one
 * PostgreSQL and one Azurite, alternating in each run so a busy machine weighs on both alike.
 * Both go through the balancer, so the difference is the second instance alone.
 */
async function balancedSection() {
  const [postgres, azurite] = await Promise.all([startPostgres(), startAzurite()]);
  const db = await postgres.createDatabase('bench');
  const env = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString };
  const twoPort = await freePort();
  const publicUrl = `http://127.0.0.1:${twoPort}`;
  const flags = ['--db', db, '--blob', 'azure:bench', '--public-url', publicUrl, '--trust-proxy', '127.0.0.1', '--no-import-worker'];
  const first = await startService('balanced-1', flags, env);
  const second = await startService('balanced-2', flags, env);
  const backend = (service, name) => ({ name, port: Number(new URL(service.url).port) });
  const one = await startHaproxy([backend(first, 'instance1')]);
  const two = await startHaproxy([backend(first, 'instance1'), backend(second, 'instance2')], { port: twoPort });
  try {
    const home = join(work, 'balanced-agent');
    const agentEnv = { DRIVESEED_HOME: home };
    const settings = join(work, 'balanced-publish.json');
    const { subscriptionId, ownerKey } = first.bootstrap;
    run(['service', 'publish-settings', '--service', publicUrl, '--subscription', subscriptionId, '--owner-key', ownerKey, '--out', settings], agentEnv);
    run(['agent', 'register', '--publish-settings', settings, '--vault', 'bench'], agentEnv);
    const token = await bearerToken(home, publicUrl);
    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')).registration;
    const path = routePath(routes.serverStatus, { subscriptionId: config.subscriptionId, vaultName: config.vault, serverId: config.serverId });
    const headers = { authorization: `Bearer ${token}` };
    const rates = { one: [], two: [] };
    const cpu = { one: [], two: [] };
    for (let i = 1; i <= Number(args.runs); i++) {
      for (const [key, lb] of [
        ['one', one],
        ['two', two],
      ]) {
        const before = [first, second].map((s) => cpuSeconds(s.child.pid));
        const r = await autocannon({ url: `${lb.url}${path}`, connections: 50, duration: Number(args.seconds), headers });
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${key}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
        const used = [first, second].map((s, n) => cpuSeconds(s.child.pid) - before[n]);
        rates[key].push(r.requests.average);
        cpu[key].push(used);
        console.log(
          `run ${i}, ${key === 'one' ? 'one instance ' : 'two instances'} behind HAProxy: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; instance CPU-s ${used.map((c) => c.toFixed(1)).join(' + ')}`,
        );
      }
    }
    const oneRate = medianOf(rates.one);
    const twoRate = medianOf(rates.two);
    console.log(
      `\nGET server status (bearer), 50 concurrent clients through HAProxy, medians of ${args.runs} runs of ${args.seconds} s: ` +
        `one instance ${oneRate.toFixed(0)} req/s, two instances ${twoRate.toFixed(0)} req/s (${(twoRate / oneRate).toFixed(2)}×). ` +
        `On ${availableCores()} cores shared by the load generator, HAProxy, PostgreSQL and the instances, a second instance can add at most what the cores left idle by one give.`,
    );
  } finally {
    await Promise.all([one.stop(), two.stop()]);
    first.child.kill();
    second.child.kill();
    await Promise.all([postgres.stop(), azurite.stop()]);
  }
}

function availableCores() {
  return spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
}

async function main() {
  if (args.only === 'balanced') {
    await balancedSection();
    rmSync(work, { recursive: true, force: true });
    return;
  }
  if (args.only !== undefined) throw new Error(`--only takes "balanced", not "${args.only}"`);
  settler = new Settler(work);
  tls = await writeLoopbackCertificate();
  execWarm();
  const runs = Number(args.runs);
  const rows = [];
  let fs;
  for (let i = 1; i <= runs; i++) {
    const row = await oneRun(i);
    rows.push(row);
    fs?.service.child.kill();
    fs = row.fs;
  }
  const median = (key) => medianOf(rows.map((r) => r.seconds[key]));
  const medianCpu = (key) => Object.fromEntries(Object.keys(rows[0].cpu[key]).map((name) => [name, medianOf(rows.map((r) => r.cpu[key][name]))]));
  const local = median('local');
  const cpuRatios = [];
  console.log(`\nmedians of ${runs} runs (${(localBytes / 1e6).toFixed(0)} MB read from ${args.data}), with the CPU seconds each process used:`);
  console.log(
    `  ${'local repository:'.padEnd(LABEL_WIDTH)} ${local.toFixed(2)} s (${(localBytes / 1e6 / local).toFixed(0)} MB/s; ${cpuLine(medianCpu('local'))})`,
  );
  for (const [key, label] of PATHS) {
    const ratios = rows.map((r) => r.seconds.local / r.seconds[key]);
    const cpu = medianCpu(key);
    console.log(
      `  ${label.padEnd(LABEL_WIDTH)} ${median(key).toFixed(2)} s — ${(local / median(key)).toFixed(2)}× the local throughput (per-run ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}, median ${medianOf(ratios).toFixed(2)}×; ${cpuLine(cpu)})`,
    );
    cpuRatios.push(
      `  ${label.padEnd(LABEL_WIDTH)} ${cpuRatio(medianCpu('local'), cpu, () => true)} of all processes, ${cpuRatio(medianCpu('local'), cpu, (name) => name !== 'azurite')} of driveseed's`,
    );
  }
  const restoreMedian = (key) => medianOf(rows.map((r) => r.restores[key]));
  console.log(
    `\nrestores of the same data, medians: local ${restoreMedian('local').toFixed(2)} s; ${RESTORE_PATHS.map(([key, label]) => `${label} ${restoreMedian(key).toFixed(2)} s (${(restoreMedian('local') / restoreMedian(key)).toFixed(2)}× the local throughput)`).join('; ')}`,
  );
  console.log(`\nCPU seconds of the local backup / of the online one (the throughput ratio that running on a core as fully as the local backup would give):`);
  for (const line of cpuRatios) console.log(line);

  // A small authenticated metadata call: the server's status (jobs, recovery points) with a bearer token.
  const token = await bearerToken(fs.agentEnv.DRIVESEED_HOME, fs.service.url);
  const config = JSON.parse(readFileSync(join(fs.agentEnv.DRIVESEED_HOME, 'config.json'), 'utf8')).registration;
  const path = routePath(routes.serverStatus, { subscriptionId: config.subscriptionId, vaultName: config.vault, serverId: config.serverId });
  const results = [];
  for (const [label, url, headers] of [
    ['GET /health', `${fs.service.url}${routes.health.path}`, {}],
    [`GET server status (bearer)`, `${fs.service.url}${path}`, { authorization: `Bearer ${token}` }],
  ]) {
    const r = await autocannon({ url, connections: 50, duration: Number(args.seconds), headers });
    results.push(
      `${label}: ${medianOf([r.requests.average, r.requests.mean])?.toFixed(0)} req/s average, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${r.non2xx} non-2xx`,
    );
  }
  for (const line of results) console.log(`50 concurrent clients, ${args.seconds} s — ${line}`);
  fs.service.child.kill();
  console.log('');
  await balancedSection();
  settler.close();
  rmSync(work, { recursive: true, force: true });
}

/** The agent's own token, fetched the way the agent does it. */
async function bearerToken(home, serviceUrl) {
  process.env.DRIVESEED_HOME = home;
  const { loadAgentConfig, loadCertificate } = await import('../dist/src/client/agent/agent-config.js');
  const { signClientAssertion } = await import('../dist/src/core/certificates/certificates.js');
  const config = await loadAgentConfig();
  const appId = config.registration.applicationId;
  const cert = await loadCertificate(config.applicationCertThumbprints[appId]);
  const tokenUrl = `${serviceUrl}${routes.token.path}`;
  const assertion = await signClientAssertion(appId, tokenUrl, cert);
  const response = await fetch(tokenUrl, {
    method: routes.token.method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: appId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }),
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
