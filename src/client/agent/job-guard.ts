import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentHome } from './agent-config.js';
import type { VaultSession } from './vault-session.js';

/**
 * Jobs always end, on the agent's side: a running job sends a heartbeat (so the service can
 * tell a live job from an abandoned one), Ctrl-C or SIGTERM ends it Failed before the process
 * exits, and a job whose process died without a word (kill -9, a power cut) is recorded in
 * the agent's home and closed Failed by the next run.
 */
export const AGENT_HEARTBEAT_SECONDS = 30;
/** How long an interrupted run waits to tell the service before it exits anyway (the next run tells it then). */
const INTERRUPT_REPORT_MS = 5000;

interface RunningJobRecord {
  jobId: string;
  serverId: string;
  pid: number;
  startedAt: string;
}

const runningDirectory = () => join(agentHome(), 'running-jobs');
const recordPath = (jobId: string) => join(runningDirectory(), `${jobId}.json`);

export interface JobGuard {
  /** Heartbeats and signal handlers off: the job is being finished. */
  stop(): void;
  /** The service knows the job ended: the record goes. */
  forget(): Promise<void>;
}

/** Guards a job this process just started; `fail` ends it Failed with the given error. */
export async function guardJob(session: VaultSession, jobId: string, fail: (error: Error) => Promise<void>): Promise<JobGuard> {
  await mkdir(runningDirectory(), { recursive: true, mode: 0o700 });
  const record: RunningJobRecord = { jobId, serverId: session.server.serverId, pid: process.pid, startedAt: new Date().toISOString() };
  await writeFile(recordPath(jobId), JSON.stringify(record) + '\n');
  const beat = setInterval(() => {
    session.client.request('heartbeat', { params: { ...session.server, jobId } }).catch(() => undefined);
  }, AGENT_HEARTBEAT_SECONDS * 1000);
  beat.unref();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    // A second Ctrl-C does not wait for the service.
    if (interrupted) process.exit(code);
    interrupted = true;
    process.stderr.write(`\ndriveseed: interrupted (${signal}); marking backup job ${jobId.slice(0, 8)} Failed\n`);
    const told = fail(new Error(`interrupted by ${signal} before the job ended`)).then(() => rm(recordPath(jobId), { force: true }));
    void Promise.race([told, sleep(INTERRUPT_REPORT_MS)]).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stop = () => {
    clearInterval(beat);
    if (interrupted) return;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return { stop, forget: () => rm(recordPath(jobId), { force: true }) };
}

/**
 * Ends, as Failed, the jobs of this server that a process of this agent started and died
 * in (its pid is gone). A job the service closed already, or ended otherwise, is only forgotten.
 */
export async function closeAbandonedJobs(session: VaultSession): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(runningDirectory())).filter((n) => n.endsWith('.json'));
  } catch {
    return 0;
  }
  let closed = 0;
  for (const name of names) {
    let record: RunningJobRecord;
    try {
      record = JSON.parse(await readFile(join(runningDirectory(), name), 'utf8')) as RunningJobRecord;
    } catch {
      await rm(join(runningDirectory(), name), { force: true });
      continue;
    }
    if (record.serverId !== session.server.serverId) {
      await rm(recordPath(record.jobId), { force: true });
      continue;
    }
    if (isAlive(record.pid)) continue;
    const outcome = {
      state: 'Failed' as const,
      ...{ filesNew: 0, filesChanged: 0, filesUnchanged: 0, bytesRead: 0, bytesSent: 0, warnings: 0 },
      error: `the agent (pid ${record.pid}) stopped before the job ended; closed by its next run`,
    };
    const ended = await session.client.request('finishJob', { params: { ...session.server, jobId: record.jobId }, body: outcome }).then(
      () => true,
      () => false,
    );
    if (ended) closed++;
    await rm(recordPath(record.jobId), { force: true });
  }
  return closed;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
