import { Cron } from 'croner';
import type { Condition } from './condition.js';

/** A scheduled run may start this late (a busy agent, a reboot) before it counts as missed. */
export const DEFAULT_MISSED_GRACE_MS = 60 * 60_000;

export interface ScheduledServer {
  serverId: string;
  serverName: string;
  vaultName: string;
  schedule: string;
  /** The agent's IANA zone, which its cron schedule is read in; none: the service's. */
  timeZone?: string;
  /** The later of the policy's last change and the last job's start: the next run is owed from then. */
  owedSince: string;
}

/**
 * A scheduled backup is missed when the first run the schedule owed after the last job (or
 * after the schedule was set) is more than `graceMs` in the past and no job has started since.
 * Any job starting clears it; if that job fails, the failure is its own condition.
 */
export function missedBackups(servers: ScheduledServer[], now: Date, graceMs: number): Condition[] {
  const out: Condition[] = [];
  for (const server of servers) {
    const due = firstRunAfter(server, new Date(server.owedSince));
    if (!due || now.getTime() - due.getTime() <= graceMs) continue;
    out.push({
      kind: 'backup-missed',
      subject: server.serverId,
      vaultName: server.vaultName,
      message: `No backup of ${server.serverName} ran for the one scheduled at ${due.toISOString()} ("${server.schedule}"${server.timeZone ? ` in ${server.timeZone}` : ''})`,
      link: '/jobs',
    });
  }
  return out;
}

/** The schedule's first run after `after`; none for an expression croner cannot run (or a zone it does not know). */
function firstRunAfter(server: ScheduledServer, after: Date): Date | null {
  try {
    return new Cron(server.schedule, { paused: true, ...(server.timeZone ? { timezone: server.timeZone } : {}) }).nextRun(after);
  } catch {
    return null;
  }
}
