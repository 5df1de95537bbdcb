#!/usr/bin/env node
// Link benchmark (issue 14): what an online incremental moves over a long, thin link. The
// agent talks to a local service through the link emulator; the first backup goes over an
// unshaped link, then the link becomes --rtt ms / --mbit Mbit/s each way and the bench runs
// an unchanged incremental and one with about --change % of the tree's bytes added (new files
// in a second protected directory: the protected tree itself is not ours to modify). Prints
// bytes each way, HTTP requests (counted on the client→server stream), connections and
// seconds for each, and the unchanged incremental over an unshaped link for comparison.
// Run under the shared lock: flock /tmp/driveseed-bench.lock node bench/link-bench.mjs …
//
//   node bench/link-bench.mjs [--data /usr/share] [--rtt 300] [--mbit 20] [--change 1]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../dist/src/testing/azurite.js';
import { startLink } from '../dist/src/testing/link-emulator.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'driveseed.js');
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '/usr/share' },
    rtt: { type: 'string', default: '300' },
    mbit: { type: 'string', default: '20' },
    change: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const work = mkdtempSync(join(tmpdir(), 'link-bench-'));
const env = { DRIVESEED_PASSWORD: 'bench password', DRIVESEED_HOME: join(work, 'agent') };

/** Runs the CLI without blocking this process: the link lives in its event loop. */
function run(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => (code === 0 || code === 3 ? resolve(stdout) : reject(new Error(`${argv.join(' ')}: exit ${code}: ${stderr}`))));
  });
}

const dataDir = join(work, 'service');
const port = await freePort();
// Agents know the service by the link's address, which is therefore its public one (token audiences).
const link = await startLink({ target: `http://127.0.0.1:${port}`, latencyMs: 0 });
const service = spawn(process.execPath, [BIN, 'service', 'start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--public-url', link.url], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  await new Promise((resolve) => service.stdout.on('data', (c) => String(c).includes('listening on') && resolve()));
  const bootstrap = JSON.parse(readFileSync(join(dataDir, 'bootstrap.json'), 'utf8'));
  const settings = join(work, 'publish.json');
  await run([
    'service',
    'publish-settings',
    '--service',
    link.url,
    '--subscription',
    bootstrap.subscriptionId,
    '--owner-key',
    bootstrap.ownerKey,
    '--out',
    settings,
  ]);
  await run(['agent', 'register', '--publish-settings', settings, '--vault', 'main']);
  const extra = join(work, 'extra');
  mkdirSync(extra);
  await run(['agent', 'protect', args.data, extra]);

  const rows = [];
  const measure = async (label) => {
    link.resetStats();
    const started = performance.now();
    const job = JSON.parse(await run(['agent', 'backup-now', '--json']));
    const seconds = (performance.now() - started) / 1000;
    const s = link.stats;
    rows.push({ label, seconds, received: s.bytesDown, sent: s.bytesUp, requests: s.requests, connections: s.connections });
    if (!args.json)
      console.log(
        `${label.padEnd(34)} ${seconds.toFixed(1).padStart(6)} s  received ${String(s.bytesDown).padStart(10)} B  sent ${String(s.bytesUp).padStart(10)} B  ` +
          `${String(s.requests).padStart(5)} requests  ${s.connections} connections  (files new ${job.filesNew}, changed ${job.filesChanged}, unchanged ${job.filesUnchanged})`,
      );
    return job;
  };

  const first = await measure('first backup, unshaped link');
  await measure('unchanged, unshaped link');
  const oneWay = Number(args.rtt) / 2;
  const bytesPerSecond = (Number(args.mbit) * 1e6) / 8;
  link.shape({ latencyMs: oneWay, upBytesPerSecond: bytesPerSecond, downBytesPerSecond: bytesPerSecond });
  await measure(`unchanged, ${args.rtt} ms RTT ${args.mbit} Mbit/s`);
  writeChange(extra, Math.round((Number(args.change) / 100) * first.bytesRead));
  await measure(`${args.change} % added, ${args.rtt} ms RTT ${args.mbit} Mbit/s`);
  if (args.json) console.log(JSON.stringify({ data: args.data, rttMs: Number(args.rtt), mbit: Number(args.mbit), rows }, null, 2));
} finally {
  await link.close();
  service.kill();
  rmSync(work, { recursive: true, force: true });
}

/** New files of 16 KiB of random bytes, `bytes` in all. */
function writeChange(dir, bytes) {
  for (let i = 0; i * 16384 < bytes; i++) writeFileSync(join(dir, `new-${i}`), randomBytes(16384));
}
