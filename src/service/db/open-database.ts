import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import { DriveseedError } from '../../core/errors.js';
import { migrationProvider } from './migrations.js';
import { withStatementCache } from './statement-cache.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface OpenedDatabase {
  db: Db;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/**
 * `postgres://…` opens PostgreSQL (for several service instances); anything else is the path
 * of an embedded SQLite file. Both get the same migrations.
 */
export async function openDatabase(url: string): Promise<OpenedDatabase> {
  const opened = url.startsWith('postgres://') || url.startsWith('postgresql://') ? await openPostgres(url) : await openSqlite(url);
  await migrate(opened.db);
  return opened;
}

async function openSqlite(path: string): Promise<OpenedDatabase> {
  const { default: SqliteDatabase } = await import('better-sqlite3');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  ownerOnly(path);
  const sqlite = new SqliteDatabase(path);
  // WAL: readers never wait for the writer; synchronous=FULL: an acknowledged write survives a kill.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Keys the service forgets (a settled drive's) are overwritten with zeros, not left in free pages.
  sqlite.pragma('secure_delete = ON');
  // SQLite makes the WAL and shared-memory files with the database file's mode; these were made before it was fixed.
  ownerOnly(path);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, kind: 'sqlite', close: () => db.destroy() };
}

/**
 * The database file holds the token-signing key and drive keys: another local user who reads
 * it can mint tokens. So it is made 0600 before SQLite opens it, whatever the umask, and so
 * are its WAL and shared-memory files and any an older version left readable.
 */
function ownerOnly(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    try {
      chmodSync(file, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

async function openPostgres(url: string): Promise<OpenedDatabase> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end();
    throw new DriveseedError('STORAGE', `cannot connect to PostgreSQL at ${redact(url)}: ${(cause as Error).message}`, { cause });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

async function migrate(db: Db): Promise<void> {
  // Unordered: migrations are written on parallel branches under reserved names (0010…0013), so
  // a database may have run a later one before an earlier one lands; each stands alone.
  const { error, results } = await new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new DriveseedError('STORAGE', `database migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
