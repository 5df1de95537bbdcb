import type { Db } from '../db/open-database.js';
import { ensureOperatorKey } from './console-sessions.js';
import { countSubscriptions, createSubscription, type NewSubscription } from './subscriptions.js';

/** The row that says the first subscription was made; its value is that subscription's id. */
const FIRST_SUBSCRIPTION = 'first_subscription';

export interface FirstStart {
  /** Set on the start that made the first subscription, and on no other. */
  subscription?: NewSubscription;
  /** Set on the start that made the data centre's operator key. */
  operatorKey?: string;
}

/**
 * What the first start of a service makes: the first subscription and the operator key.
 * Several instances may start at the same moment on one empty database; counting
 * subscriptions and then creating one would let each of them make its own "default"
 * subscription. So the first subscription is claimed by a row only one insert can add, in
 * the transaction that creates it: a second instance's insert waits for the first one's
 * commit (PostgreSQL's unique index; SQLite has one writer) and then adds nothing. The
 * operator key is made in the same transaction, so both keys come from one instance, which
 * writes them to its bootstrap file.
 */
export async function firstStart(db: Db, now: Date): Promise<FirstStart> {
  return db.transaction().execute(async (trx) => {
    let subscription: NewSubscription | undefined;
    if ((await countSubscriptions(trx)) === 0 && (await claimFirstSubscription(trx, now))) {
      subscription = await createSubscription(trx, 'default', now);
      await trx.updateTable('service_secrets').set({ value: subscription.id }).where('name', '=', FIRST_SUBSCRIPTION).execute();
    }
    const operatorKey = await ensureOperatorKey(trx, now);
    return { ...(subscription ? { subscription } : {}), ...(operatorKey ? { operatorKey } : {}) };
  });
}

async function claimFirstSubscription(db: Db, now: Date): Promise<boolean> {
  const inserted = await db
    .insertInto('service_secrets')
    .values({ name: FIRST_SUBSCRIPTION, value: '', created_at: now.toISOString() })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
}
