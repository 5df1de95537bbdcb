import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { join, resolve } from 'node:path';
import type { BlobStore } from '../core/storage/blob-store.js';
import { openStore } from '../core/storage/open-store.js';
import { openDatabase, type Db } from '../service/db/open-database.js';
import { blobLocation } from '../service/start-service.js';

export interface ServiceFlags {
  dataDir?: string;
  db?: string;
  blob?: string;
}

export function addServiceOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', "the service's data directory, as given to service start (env DRIVESEED_DATA_DIR; default ./driveseed-data)")
    .option('--db <url>', 'postgres://… when the service uses PostgreSQL')
    .option('--blob <url>', "the service's blob storage, as given to service start");
}

/**
 * The operator works on the service's own database and storage, as the data centre's staff
 * do. The database is closed after `work`, whether it succeeds or fails.
 */
export async function withServiceData<T>(flags: ServiceFlags, work: (db: Db, blobs: BlobStore) => Promise<T>): Promise<T> {
  const dataDir = resolve(flags.dataDir ?? process.env.DRIVESEED_DATA_DIR ?? './driveseed-data');
  const database = await openDatabase(flags.db ?? existingSqlite(dataDir));
  try {
    return await work(database.db, await openStore(blobLocation(flags.blob, dataDir)));
  } finally {
    await database.close();
  }
}

/**
 * The service's SQLite file, which only `service start` creates: opening it here would make
 * an empty service wherever the operator happens to stand and report "0 import jobs" from it.
 */
function existingSqlite(dataDir: string): string {
  const path = join(dataDir, 'driveseed.db');
  if (!existsSync(path))
    throw new DriveseedError('NOT_FOUND', `no service data in ${dataDir}`, {
      hint: 'pass --data-dir DIR, the directory given to service start, or set DRIVESEED_DATA_DIR',
    });
  return path;
}
