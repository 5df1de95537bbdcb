import { DriveseedError } from '../../core/errors.js';
import { loadAgentConfig } from './agent-config.js';
import { backupNow, type BackupNowResult } from './backup-now.js';
import { runOwedPostHooks, type OwedPostHook } from './owed-post-hooks.js';

/** Refuses what croner cannot run, before a policy with it is saved. */
export async function assertCron(expression: string): Promise<void> {
  const { Cron } = await import('croner');
  try {
    new Cron(expression, { paused: true }).stop();
  } catch (e) {
    throw new DriveseedError('USAGE', `not a cron expression: "${expression}" (${(e as Error).message})`);
  }
}

export interface ScheduledBackups {
  schedule: string;
  nextRun: Date | null;
  /** Post hooks owed by a run that was killed between its hooks, run as the scheduler started. */
  owed: OwedPostHook[];
  stop(): void;
}

/**
 * `agent run`: backs up on the protection policy's schedule until stopped. A run's outcome
 * goes to `onRun`; a failed run is reported and the schedule goes on. The password is read
 * only once the schedule is known to be set, so a missing schedule is what an agent without
 * either hears about first.
 */
export async function startScheduledBackups(
  password: () => Promise<string>,
  onRun: (started: string, outcome: { result: BackupNowResult } | { error: Error }) => void,
): Promise<ScheduledBackups> {
  const schedule = (await loadAgentConfig()).policy?.schedule;
  if (!schedule) throw new DriveseedError('USAGE', 'no schedule set', { hint: 'run `driveseed agent protect PATH… --schedule CRON`' });
  const secret = await password();
  // At the agent's start, not only at its next backup: the database frozen by a killed run
  // must not wait for the schedule to be thawed.
  const owed = await runOwedPostHooks();
  const { Cron } = await import('croner');
  // protect: a run that is still going when the next is due is not started twice.
  const job = new Cron(schedule, { protect: true }, async () => {
    const started = new Date().toISOString();
    try {
      onRun(started, { result: await backupNow(secret) });
    } catch (e) {
      onRun(started, { error: e as Error });
    }
  });
  return { schedule, nextRun: job.nextRun(), owed, stop: () => job.stop() };
}
