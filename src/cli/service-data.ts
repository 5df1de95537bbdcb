import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import type { BlobStore } from '../core/storage/blob-store.js';
import { openStore } from '../core/storage/open-store.js';
import { openDatabase, type Db } from '../service/db/open-database.js';
import { blobLocation } from '../service/start-service.js';

export interface ServiceFlags {
  dataDir: string;
  db?: string;
  blob?: string;
}

export function addServiceOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', "the service's data directory", './driveseed-data')
    .option('--db <url>', 'postgres://… when the service uses PostgreSQL')
    .option('--blob <url>', "the service's blob storage, as given to service start");
}

/**
 * The operator works on the service's own database and storage, as the data centre's staff
 * do. The database is closed after `work`, whether it succeeds or fails.
 */
export async function withServiceData<T>(flags: ServiceFlags, work: (db: Db, blobs: BlobStore) => Promise<T>): Promise<T> {
  const database = await openDatabase(flags.db ?? join(resolve(flags.dataDir), 'driveseed.db'));
  try {
    return await work(database.db, await openStore(blobLocation(flags.blob, resolve(flags.dataDir))));
  } finally {
    await database.close();
  }
}
