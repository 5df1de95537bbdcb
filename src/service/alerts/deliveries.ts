import type { Db } from '../db/open-database.js';
import type { AlertDeliveryTable, AlertTargetTable } from '../db/schema.js';
import type { EmailSender } from './email-sender.js';
import { sendWebhook } from './webhook-sender.js';

/**
 * Waits before each retry of a failed delivery: a minute, then 5, 30, 2 h and 6 h, so a
 * receiver that is down for a night still gets the alert; after the last it is given up
 * (recorded as failed, with its error, on the target).
 */
export const RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 6 * 3600_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** Deliveries one round sends; the rest wait for the next round. */
const ROUND_LIMIT = 100;

export interface AlertSenders {
  /** Absent when the service has no SMTP server: e-mail deliveries fail, saying so. */
  email?: EmailSender;
  webhook: { allowPrivate: boolean; timeoutMs?: number };
}

export interface DeliveryRound {
  delivered: number;
  retrying: number;
  failed: number;
}

/** Sends every delivery that is due. Each is claimed first (its next attempt moved on), so two instances do not both send it. */
export async function deliverDue(db: Db, now: Date, senders: AlertSenders): Promise<DeliveryRound> {
  const round: DeliveryRound = { delivered: 0, retrying: 0, failed: 0 };
  const due = await db
    .selectFrom('alert_deliveries')
    .innerJoin('alert_targets', 'alert_targets.id', 'alert_deliveries.target_id')
    .selectAll('alert_deliveries')
    .select(['alert_targets.kind as target_kind', 'alert_targets.address as target_address', 'alert_targets.secret as target_secret'])
    .where('alert_deliveries.state', '=', 'pending')
    .where('alert_deliveries.next_attempt_at', '<=', now.toISOString())
    .orderBy('alert_deliveries.next_attempt_at')
    .limit(ROUND_LIMIT)
    .execute();
  for (const delivery of due) {
    const attempts = Number(delivery.attempts) + 1;
    const retryAt = new Date(now.getTime() + (RETRY_DELAYS_MS[attempts - 1] ?? 0)).toISOString();
    const claimed = await db
      .updateTable('alert_deliveries')
      .set({ attempts, next_attempt_at: retryAt })
      .where('id', '=', delivery.id)
      .where('state', '=', 'pending')
      .where('attempts', '=', delivery.attempts)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) continue;
    const target = { kind: delivery.target_kind, address: delivery.target_address, secret: delivery.target_secret };
    try {
      await sendOne(target, delivery, senders, now);
      await db
        .updateTable('alert_deliveries')
        .set({ state: 'delivered', delivered_at: now.toISOString(), last_error: null })
        .where('id', '=', delivery.id)
        .execute();
      round.delivered++;
    } catch (e) {
      const gaveUp = attempts >= MAX_ATTEMPTS;
      await db
        .updateTable('alert_deliveries')
        .set({ state: gaveUp ? 'failed' : 'pending', last_error: oneLine(e) })
        .where('id', '=', delivery.id)
        .execute();
      if (gaveUp) round.failed++;
      else round.retrying++;
    }
  }
  return round;
}

async function sendOne(
  target: Pick<AlertTargetTable, 'kind' | 'address' | 'secret'>,
  delivery: AlertDeliveryTable,
  senders: AlertSenders,
  now: Date,
): Promise<void> {
  const message = { id: delivery.id, event: `alert.${delivery.event}`, body: delivery.body };
  if (target.kind === 'email') {
    if (!senders.email) throw new Error('this service has no SMTP server to send e-mail through (service start --smtp URL)');
    await senders.email.send(target.address, message);
    return;
  }
  await sendWebhook({ address: target.address, secret: target.secret ?? '' }, message, { ...senders.webhook, now: () => now });
}

function oneLine(e: unknown): string {
  return ((e as Error).message ?? String(e)).replace(/\s+/g, ' ').slice(0, 500);
}
