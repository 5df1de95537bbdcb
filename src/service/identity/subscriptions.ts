import { randomUUID } from 'node:crypto';
import type { Db } from '../db/open-database.js';
import { DriveseedError } from '../../core/errors.js';
import { hashSecret, newOwnerKey } from './secrets.js';

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

/** The subscription an owner key belongs to: the key proves ownership of exactly one (the console signs in with the key alone). */
export async function subscriptionOfOwnerKey(db: Db, ownerKey: string): Promise<string> {
  const row = await db.selectFrom('subscriptions').select('id').where('owner_key_hash', '=', hashSecret(ownerKey)).executeTakeFirst();
  if (!row) throw new DriveseedError('UNAUTHORIZED', 'unknown owner key');
  return row.id;
}
