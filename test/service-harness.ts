import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { freePort } from '../src/testing/azurite.js';
import { BIN, cli, json, tempDir } from './cli-harness.js';

/** A real `driveseed service start` process, restartable on the same port and data dir. */
export async function startServiceProcess(dataDir: string, port: number, extra: string[] = [], env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'service', 'start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`service exited ${code}: ${output}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  // Killed by a signal, a process has no exit code but a signal code: it has exited all the same.
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await new Promise((resolve) => child.once('exit', resolve));
}

/** A service, a registered agent home and a protected tree: the setting of every test here. */
export async function setUpAgent(
  t: any,
  options: { extra?: string[]; env?: Record<string, string>; data?: (dir: string) => Promise<void>; https?: boolean } = {},
) {
  const dir = await tempDir(t);
  const dataDir = join(dir, 'service');
  const port = await freePort();
  let service = await startServiceProcess(dataDir, port, options.extra, options.env);
  t.after(() => stopProcess(service));
  const bootstrap = JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8'));
  const env = { DRIVESEED_HOME: join(dir, 'agent'), ...options.env };
  const url = `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const settings = join(dir, 'publish.json');
  assert.equal(
    cli(
      ['service', 'publish-settings', '--service', url, '--subscription', bootstrap.subscriptionId, '--owner-key', bootstrap.ownerKey, '--out', settings],
      env,
    ).code,
    0,
  );
  const registered = json(cli(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--json'], env));
  const data = join(dir, 'data');
  if (options.data) await options.data(data);
  else await writeSampleTree(data, 5, 80);
  return {
    dir,
    dataDir,
    data,
    env,
    url,
    bootstrap,
    registered,
    settings,
    restart: async () => {
      service = await startServiceProcess(dataDir, port, options.extra, options.env);
    },
    kill: () => stopProcess(service, 'SIGKILL'),
  };
}

/** Flips one byte in the largest payload file of a drive: its import must report the block. */
export async function tamperDrive(drivePath: string): Promise<void> {
  const payload = join(drivePath, 'payload');
  const files = (await readdir(payload)).sort();
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(payload, f))).size));
  const victim = join(payload, files[sizes.indexOf(Math.max(...sizes))]);
  const bytes = await readFile(victim);
  bytes[100] ^= 0x10;
  await writeFile(victim, bytes);
}

/** A customer's shipping details as the import API takes them: one fixture for every test that ships drives. */
export function shippingDetails(trackingNumber: string, carrier = 'DHL') {
  return {
    carrier,
    trackingNumber,
    shipDate: '2026-11-25',
    contactName: 'A. Admin',
    phone: '+31 20 123 4567',
    email: 'admin@example.org',
    returnAddress: 'Dam 1, Amsterdam',
    country: 'NL',
    postalCode: '1012 JS',
  };
}

/** The same details as diskprep's shipping flags (the tracking number goes with --tracking). */
export const SHIPPING_FLAGS = [
  '--carrier',
  'DHL',
  '--ship-date',
  '2026-11-25',
  '--contact-name',
  'A. Admin',
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

/** GET of a console API path under the subscription, signed in with its owner key (as the console is). */
export async function ownerConsoleGet(s: { url: string; bootstrap: { subscriptionId: string; ownerKey: string } }, path: string): Promise<any> {
  const session = await fetch(`${s.url}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: s.bootstrap.ownerKey }),
  });
  assert.equal(session.status, 201);
  const cookie = session.headers.get('set-cookie')!.split(';')[0];
  const response = await fetch(`${s.url}/v1/subscriptions/${s.bootstrap.subscriptionId}/${path}`, { headers: { cookie } });
  assert.equal(response.status, 200);
  return response.json();
}
