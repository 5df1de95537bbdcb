import { randomUUID } from 'node:crypto';
import type { Alert } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import type { AlertTable, AlertTargetTable } from '../db/schema.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import type { Condition } from '../console/condition.js';
import { subscriptionConditions } from '../console/console-queries.js';

export interface AlertSync {
  raised: number;
  resolved: number;
}

/**
 * Compares what needs a person now with the open alerts: a new condition is raised once (kind
 * + subject), with a delivery owed to each of the subscription's targets that covers it; an
 * open alert whose condition is gone is resolved, and its targets are told so too. A condition
 * seen on every look stays one alert, however many looks there are.
 */
export async function syncAlerts(db: Db, now: Date, options: { missedGraceMs?: number } = {}): Promise<AlertSync> {
  const totals: AlertSync = { raised: 0, resolved: 0 };
  for (const { id } of await db.selectFrom('subscriptions').select('id').execute()) {
    const conditions = await subscriptionConditions(db, id, now, { missedGraceMs: options.missedGraceMs });
    const open = await db.selectFrom('alerts').selectAll().where('subscription_id', '=', id).where('resolved_at', 'is', null).execute();
    const openKeys = new Set(open.map(keyOf));
    const nowKeys = new Set(conditions.map(keyOf));
    const targets = await db.selectFrom('alert_targets').selectAll().where('subscription_id', '=', id).execute();
    for (const condition of conditions) {
      if (openKeys.has(keyOf(condition))) continue;
      if (await raise(db, id, condition, targets, now)) totals.raised++;
    }
    for (const alert of open) {
      if (nowKeys.has(keyOf(alert))) continue;
      if (await resolve(db, alert, targets, now)) totals.resolved++;
    }
  }
  return totals;
}

function keyOf(c: { kind: string; subject: string }): string {
  return `${c.kind}\u0000${c.subject}`;
}

/** Raises one alert with its deliveries, all or nothing; false when another instance raised it first. */
async function raise(db: Db, subscriptionId: string, condition: Condition, targets: AlertTargetTable[], now: Date): Promise<boolean> {
  const row: AlertTable = {
    id: randomUUID(),
    subscription_id: subscriptionId,
    vault_name: condition.vaultName ?? null,
    kind: condition.kind,
    subject: condition.subject,
    message: condition.message,
    link: condition.link,
    raised_at: now.toISOString(),
    resolved_at: null,
  };
  try {
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('alerts').values(row).execute();
      await queueDeliveries(tx, row, 'raised', targets, now);
    });
    return true;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

async function resolve(db: Db, alert: AlertTable, targets: AlertTargetTable[], now: Date): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const resolved = { ...alert, resolved_at: now.toISOString() };
    const result = await tx
      .updateTable('alerts')
      .set({ resolved_at: resolved.resolved_at })
      .where('id', '=', alert.id)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    // Another instance resolved it first: it told the targets.
    if (Number(result.numUpdatedRows) === 0) return false;
    await queueDeliveries(tx, resolved, 'resolved', targets, now);
    return true;
  });
}

/** A target of a vault hears of that vault's alerts only; one without a vault hears of all. */
function covers(target: AlertTargetTable, alert: AlertTable): boolean {
  return target.vault_name === null || target.vault_name === alert.vault_name;
}

/**
 * The body is fixed here, once: every retry sends the same bytes under the same delivery id,
 * so a receiver that saw the first attempt can tell the second is a repeat.
 */
async function queueDeliveries(db: Db, alert: AlertTable, event: 'raised' | 'resolved', targets: AlertTargetTable[], now: Date): Promise<void> {
  for (const target of targets.filter((t) => covers(t, alert))) {
    const id = randomUUID();
    const body = JSON.stringify({ id, event: `alert.${event}`, subscriptionId: alert.subscription_id, alert: toAlert(alert), createdAt: now.toISOString() });
    await db
      .insertInto('alert_deliveries')
      .values({
        id,
        alert_id: alert.id,
        target_id: target.id,
        event,
        body,
        state: 'pending',
        attempts: 0,
        next_attempt_at: now.toISOString(),
        last_error: null,
        delivered_at: null,
      })
      .execute();
  }
}

/** The subscription's alerts, newest first: the open ones, or all (the last 500). */
export async function listAlerts(db: Db, subscriptionId: string, state: 'open' | 'all' = 'open'): Promise<Alert[]> {
  let query = db.selectFrom('alerts').selectAll().where('subscription_id', '=', subscriptionId);
  if (state === 'open') query = query.where('resolved_at', 'is', null);
  const rows = await query.orderBy('raised_at', 'desc').orderBy('id').limit(500).execute();
  return rows.map(toAlert);
}

export function toAlert(row: AlertTable): Alert {
  return {
    id: row.id,
    kind: row.kind as Alert['kind'],
    subject: row.subject,
    ...(row.vault_name ? { vaultName: row.vault_name } : {}),
    message: row.message,
    link: row.link,
    raisedAt: row.raised_at,
    ...(row.resolved_at ? { resolvedAt: row.resolved_at } : {}),
  };
}
