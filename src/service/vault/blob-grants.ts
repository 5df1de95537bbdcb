import type { BlobGrantRequest, BlobGrants } from '../../api/schemas.js';
import { urlSignerOf, type BlobStore } from '../../core/storage/blob-store.js';
import type { Db } from '../db/open-database.js';
import type { ServerTable } from '../db/schema.js';
import { DriveseedError } from '../../core/errors.js';

/** Long enough for a pack over a slow link, short enough that a leaked URL soon stops working. */
export const DEFAULT_GRANT_SECONDS = 10 * 60;

/**
 * Signed URLs for a server's packs, straight in the vault's blob storage. The service stays
 * the authority: it decides the blob (the server's own folder, from its database row, never
 * from the request), the access (create a new pack, or read one; never overwrite, delete or
 * list) and the lifetime. Packs may be created only while one of the server's jobs runs.
 * Everything else in a repository (config, keys, index, snapshots, locks) still goes through
 * the service, which checks each content-addressed file against its name on arrival.
 */
export async function grantBlobAccess(
  db: Db,
  repository: BlobStore,
  server: ServerTable,
  request: BlobGrantRequest,
  now: Date,
  lifetimeSeconds: number,
): Promise<BlobGrants> {
  const signer = urlSignerOf(repository);
  if (!signer) return { direct: false, grants: [] };
  if (request.access === 'create') await requireRunningJob(db, server);
  const expiresOn = new Date(now.getTime() + lifetimeSeconds * 1000);
  const names = [...new Set(request.names)];
  const grants = await Promise.all(names.map(async (name) => ({ name, url: await signer.signedUrl(name, request.access, expiresOn) })));
  return { direct: true, expiresIn: lifetimeSeconds, grants };
}

async function requireRunningJob(db: Db, server: ServerTable): Promise<void> {
  const running = await db
    .selectFrom('backup_jobs')
    .select('id')
    .where('server_id', '=', server.id)
    .where('state', '=', 'InProgress')
    .limit(1)
    .executeTakeFirst();
  if (!running) throw new DriveseedError('CONFLICT', 'packs are written only while a backup job of this server runs: start one first', { field: 'access' });
}
