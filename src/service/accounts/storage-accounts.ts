import type { BlobStore } from '../../core/storage/blob-store.js';
import { PrefixStore } from '../../core/storage/prefix.js';
import type { Db } from '../db/open-database.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import { DriveseedError } from '../../core/errors.js';

export interface StorageAccountView {
  name: string;
  createdAt: string;
  containers: { name: string; createdAt: string }[];
}

/** A storage account's container is a folder of the service's blob store. */
export function containerStore(blobs: BlobStore, storageAccount: string, container: string): BlobStore {
  return new PrefixStore(blobs, `accounts/${storageAccount}/containers/${container}`);
}

/**
 * Makes the account if no one has it; names are service-wide, as Azure's are, so an account
 * another subscription owns is a conflict rather than a silent share of its containers.
 */
export async function ensureStorageAccount(db: Db, subscriptionId: string, name: string, now: Date): Promise<StorageAccountView> {
  const existing = await db.selectFrom('storage_accounts').selectAll().where('name', '=', name).executeTakeFirst();
  if (existing && existing.subscription_id !== subscriptionId)
    throw new DriveseedError('CONFLICT', `storage account name ${name} is taken`, { field: 'storageAccount' });
  if (!existing) {
    try {
      await db.insertInto('storage_accounts').values({ name, subscription_id: subscriptionId, created_at: now.toISOString() }).execute();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      // Another request made it meanwhile: fine if it was for this subscription.
      return ensureStorageAccount(db, subscriptionId, name, now);
    }
  }
  return getStorageAccount(db, subscriptionId, name);
}

export async function ensureContainer(db: Db, subscriptionId: string, account: string, container: string, now: Date): Promise<StorageAccountView> {
  await getStorageAccount(db, subscriptionId, account);
  await db
    .insertInto('storage_containers')
    .values({ account, name: container, created_at: now.toISOString() })
    .onConflict((c) => c.columns(['account', 'name']).doNothing())
    .execute();
  return getStorageAccount(db, subscriptionId, account);
}

/** Another subscription's account is "not found", never "forbidden": names do not leak. */
export async function getStorageAccount(db: Db, subscriptionId: string, name: string): Promise<StorageAccountView> {
  const account = await db.selectFrom('storage_accounts').selectAll().where('name', '=', name).where('subscription_id', '=', subscriptionId).executeTakeFirst();
  if (!account) throw new DriveseedError('NOT_FOUND', `no storage account ${name} in this subscription`);
  const containers = await db.selectFrom('storage_containers').selectAll().where('account', '=', name).orderBy('name').execute();
  return { name, createdAt: account.created_at, containers: containers.map((c) => ({ name: c.name, createdAt: c.created_at })) };
}

export async function listStorageAccounts(db: Db, subscriptionId: string): Promise<StorageAccountView[]> {
  const accounts = await db.selectFrom('storage_accounts').select('name').where('subscription_id', '=', subscriptionId).orderBy('name').execute();
  return Promise.all(accounts.map((a) => getStorageAccount(db, subscriptionId, a.name)));
}
