import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './azurite.js';

export const HAPROXY = process.env.DRIVESEED_HAPROXY ?? '/usr/sbin/haproxy';

/**
 * Debian's HAProxy, installed on first use as the browser tests install Chromium: the
 * several-instances tests need a real load balancer in front of the service (tests run as
 * root in CI).
 */
export function ensureHaproxy(): string {
  if (existsSync(HAPROXY)) return HAPROXY;
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'haproxy'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    if (install().status !== 0) throw new Error('could not install haproxy with apt-get (the load-balancer tests need it)');
  }
  if (!existsSync(HAPROXY)) throw new Error(`apt-get installed haproxy, but ${HAPROXY} is missing`);
  return HAPROXY;
}

export interface Backend {
  name: string;
  port: number;
}

export interface BackendState {
  name: string;
  /** UP, DOWN, … as HAProxy's health checks see it. */
  status: string;
  /** Requests (sessions) on their way through this backend now. */
  current: number;
  /** Requests it has been given since HAProxy started. */
  total: number;
}

export interface LoadBalancer {
  /** The balancer's origin: what agents and the console are given. */
  url: string;
  port: number;
  /** Each backend's state, read from HAProxy's stats socket. */
  backends(): Promise<BackendState[]>;
  stop(): Promise<void>;
}

/**
 * HAProxy in front of service instances on loopback, round robin, as a provider would run
 * it: health checks on /health take a dead instance out, a request whose connection is
 * refused is sent again to another (`retries` with `redispatch`), and X-Forwarded-For goes
 * to the instances. Timeouts are long enough for a 16 MiB pack on a slow test machine.
 */
export async function startHaproxy(backends: Backend[], options: { port?: number; checkIntervalMs?: number } = {}): Promise<LoadBalancer> {
  const bin = ensureHaproxy();
  const dir = await mkdtemp(join(tmpdir(), 'haproxy-'));
  const port = options.port ?? (await freePort());
  const socket = join(dir, 'stats.sock');
  const config = join(dir, 'haproxy.cfg');
  const inter = options.checkIntervalMs ?? 500;
  await writeFile(
    config,
    [
      'global',
      `  stats socket ${socket} mode 600 level admin`,
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  option httplog',
      '  option forwardfor',
      '  option redispatch',
      '  retries 3',
      '  timeout connect 2s',
      '  timeout client 10m',
      '  timeout server 10m',
      '  timeout http-request 1m',
      'frontend driveseed',
      `  bind 127.0.0.1:${port}`,
      '  default_backend instances',
      'backend instances',
      '  balance roundrobin',
      '  option httpchk GET /health',
      '  http-check expect status 200',
      ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check inter ${inter} fall 2 rise 2`),
      '',
    ].join('\n'),
  );
  // -db: stay in the foreground, so the test owns the process and its exit.
  const child: ChildProcess = spawn(bin, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stats = () => statsCsv(socket);
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${output}`);
    try {
      await stats();
      break;
    } catch (e) {
      if (tries > 200) {
        child.kill('SIGKILL');
        throw new Error(`haproxy did not open its stats socket: ${(e as Error).message} ${output}`, { cause: e });
      }
      await sleep(50);
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async backends() {
      return parseBackends(await stats());
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `show stat` on the admin socket: one CSV line per frontend, backend and server. */
function statsCsv(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const connection = connect(socket, () => connection.end('show stat\n'));
    connection.on('data', (c: Buffer) => (text += c.toString()));
    connection.on('end', () => resolve(text));
    connection.on('error', reject);
  });
}

function parseBackends(csv: string): BackendState[] {
  const [header, ...lines] = csv.trim().split('\n');
  const columns = header!.replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  return lines
    .map((line) => line.split(','))
    .filter((cells) => cells[at('pxname')] === 'instances' && !['FRONTEND', 'BACKEND'].includes(cells[at('svname')]!))
    .map((cells) => ({
      name: cells[at('svname')]!,
      status: cells[at('status')]!,
      current: Number(cells[at('scur')]),
      total: Number(cells[at('stot')]),
    }));
}
