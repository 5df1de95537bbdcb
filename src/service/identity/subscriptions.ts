import { randomUUID } from 'node:crypto';
import type { Db } from '../db/open-database.js';
import { unauthorized } from '../http/http-error.js';
import { hashSecret, newOwnerKey, secretMatches } from './secrets.js';

export interface NewSubscription {
  id: string;
  ownerKey: string;
}

export async function createSubscription(db: Db, name: string, now: Date): Promise<NewSubscription> {
  const id = randomUUID();
  const ownerKey = newOwnerKey();
  await db
    .insertInto('subscriptions')
    .values({ id, name, owner_key_hash: hashSecret(ownerKey), created_at: now.toISOString() })
    .execute();
  return { id, ownerKey };
}

export async function countSubscriptions(db: Db): Promise<number> {
  const row = await db
    .selectFrom('subscriptions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The owner key proves ownership of exactly one subscription. */
export async function verifyOwnerKey(db: Db, subscriptionId: string, ownerKey: string): Promise<void> {
  const row = await db.selectFrom('subscriptions').select('owner_key_hash').where('id', '=', subscriptionId).executeTakeFirst();
  if (!row || !secretMatches(ownerKey, row.owner_key_hash)) throw unauthorized('owner key does not match this subscription');
}

/** Finds the subscription an owner key belongs to (the console signs in with the key alone). */
export async function subscriptionOfOwnerKey(db: Db, ownerKey: string): Promise<string> {
  const row = await db.selectFrom('subscriptions').select('id').where('owner_key_hash', '=', hashSecret(ownerKey)).executeTakeFirst();
  if (!row) throw unauthorized('unknown owner key');
  return row.id;
}
