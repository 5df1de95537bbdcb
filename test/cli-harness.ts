import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The real CLI, as users run it: `node bin/driveseed.js …`. */
export const BIN = new URL('../../bin/driveseed.js', import.meta.url).pathname;
export const PASSWORD = 'correct horse battery staple';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function json<T = any>(r: CliResult): T {
  if (r.code !== 0 && r.code !== 3) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }, label = 'driveseed-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The CLI without blocking this process: needed when the service under test runs in this
 * same process (spawnSync would stop it from answering).
 */
export async function cliAwait(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = cliAsync(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? -1)));
  return { code, stdout, stderr };
}
