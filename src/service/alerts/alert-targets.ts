import { randomBytes, randomUUID } from 'node:crypto';
import type { AlertTarget, CreateAlertTarget } from '../../api/schemas.js';
import { DriveseedError } from '../../core/errors.js';
import type { Db } from '../db/open-database.js';
import type { AlertTargetTable } from '../db/schema.js';
import { getVault } from '../vault/vaults.js';
import { assertEmailAddress } from './email-sender.js';
import { resolveWebhook } from './webhook-address.js';

/** Enough for a team's addresses and hooks; a tenant cannot make the service fan one alert out to thousands. */
export const MAX_TARGETS_PER_SUBSCRIPTION = 20;

export interface TargetRules {
  /** Whether this service sends e-mail at all (started with --smtp). */
  email: boolean;
  allowPrivateWebhooks: boolean;
}

/** Checks the target as hostile input (docs/alerts.md), then records it; a webhook gets a new signing secret, shown this once. */
export async function createAlertTarget(db: Db, subscriptionId: string, input: CreateAlertTarget, rules: TargetRules, now: Date): Promise<AlertTarget> {
  if (input.kind === 'email') {
    if (!rules.email)
      throw new DriveseedError('CONFLICT', 'this service sends no e-mail (its operator starts it with --smtp URL); a webhook works meanwhile', {
        field: 'kind',
      });
    assertEmailAddress(input.address);
  } else await resolveWebhook(input.address, rules.allowPrivateWebhooks);
  if (input.vaultName) await getVault(db, subscriptionId, input.vaultName);
  const count = await db
    .selectFrom('alert_targets')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_TARGETS_PER_SUBSCRIPTION)
    throw new DriveseedError('CONFLICT', `a subscription has at most ${MAX_TARGETS_PER_SUBSCRIPTION} alert targets: remove one first`);
  const row: AlertTargetTable = {
    id: randomUUID(),
    subscription_id: subscriptionId,
    vault_name: input.vaultName ?? null,
    kind: input.kind,
    address: input.address,
    secret: input.kind === 'webhook' ? `whsec_${randomBytes(32).toString('base64url')}` : null,
    created_at: now.toISOString(),
  };
  await db.insertInto('alert_targets').values(row).execute();
  return { ...toTarget(row), ...(row.secret ? { secret: row.secret } : {}) };
}

/** The targets, each with its last delivery's outcome (so a webhook that keeps failing shows), never their secrets. */
export async function listAlertTargets(db: Db, subscriptionId: string): Promise<AlertTarget[]> {
  const rows = await db.selectFrom('alert_targets').selectAll().where('subscription_id', '=', subscriptionId).orderBy('created_at').orderBy('id').execute();
  const out: AlertTarget[] = [];
  for (const row of rows) {
    const last = await db
      .selectFrom('alert_deliveries')
      .select(['state', 'attempts', 'last_error', 'delivered_at', 'next_attempt_at'])
      .where('target_id', '=', row.id)
      .where('attempts', '>', 0)
      .orderBy('next_attempt_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    out.push({
      ...toTarget(row),
      ...(last
        ? {
            lastDelivery: {
              state: last.state,
              attempts: Number(last.attempts),
              ...(last.last_error ? { error: last.last_error } : {}),
              at: last.delivered_at ?? last.next_attempt_at,
            },
          }
        : {}),
    });
  }
  return out;
}

export async function deleteAlertTarget(db: Db, subscriptionId: string, targetId: string): Promise<void> {
  const result = await db.deleteFrom('alert_targets').where('id', '=', targetId).where('subscription_id', '=', subscriptionId).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new DriveseedError('NOT_FOUND', `no alert target ${targetId}`);
}

function toTarget(row: AlertTargetTable): AlertTarget {
  return {
    id: row.id,
    kind: row.kind,
    address: row.address,
    ...(row.vault_name ? { vaultName: row.vault_name } : {}),
    createdAt: row.created_at,
  };
}
