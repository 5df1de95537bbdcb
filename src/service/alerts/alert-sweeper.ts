import type { Db } from '../db/open-database.js';
import { syncAlerts, type AlertSync } from './alerts.js';
import { deliverDue, type AlertSenders, type DeliveryRound } from './deliveries.js';

export const DEFAULT_ALERT_INTERVAL_SECONDS = 60;

export interface AlertRound extends AlertSync, DeliveryRound {}

export interface AlertSweeper {
  /** One round now: raise and resolve, then send what is due. */
  runOnce(): Promise<AlertRound>;
  stop(): Promise<void>;
}

/**
 * Looks for conditions and sends what is due every `intervalSeconds` (0: only when runOnce is
 * called, as tests with an injected clock do). Rounds never overlap; several instances may
 * each run one, since raising, resolving and claiming a delivery are each decided by the database.
 */
export function startAlertSweeper(
  db: Db,
  options: { now: () => Date; senders: AlertSenders; intervalSeconds: number; missedGraceMs?: number; log?: (message: string) => void },
): AlertSweeper {
  let running: Promise<AlertRound> | undefined;
  const runOnce = (): Promise<AlertRound> => {
    running ??= (async () => {
      try {
        const now = options.now();
        const sync = await syncAlerts(db, now, { missedGraceMs: options.missedGraceMs });
        return { ...sync, ...(await deliverDue(db, options.now(), options.senders)) };
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer =
    options.intervalSeconds > 0
      ? setInterval(() => {
          runOnce().then(
            (r) =>
              (r.raised || r.resolved || r.failed) &&
              options.log?.(`alerts: ${r.raised} raised, ${r.resolved} resolved, ${r.delivered} sent, ${r.failed} given up`),
            (e: Error) => options.log?.(`alert round failed: ${e.message}`),
          );
        }, options.intervalSeconds * 1000)
      : undefined;
  timer?.unref();
  return {
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
      options.senders.email?.close();
    },
  };
}
