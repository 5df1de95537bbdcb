import type { ConsoleBackupJob, HookRun, JobHooks } from '../../../src/api/schemas.js';
import { bytes, duration, time } from '../format.js';
import { useLiveEvent, useResource } from '../live.js';
import { Link } from '../router.js';
import { useSecondTicks } from './ticks.js';
import { Problem, StateBadge } from './common.js';

export function BackupJobPage({ sub, jobId }: { sub: string; jobId: string }) {
  const job = useResource<ConsoleBackupJob>(`${sub}/backup-jobs/${encodeURIComponent(jobId)}`);
  // A running job's duration moves every second, reports or not.
  useSecondTicks(job.data?.state === 'InProgress');
  useLiveEvent<ConsoleBackupJob>('backup-job', (changed) => changed.id === jobId && job.setData(changed));
  if (job.error) return <Problem error={job.error} />;
  const j = job.data;
  if (!j) return <p className="loading">Loading…</p>;
  const running = j.state === 'InProgress';
  return (
    <section aria-labelledby="job-title">
      <p className="crumbs">
        <Link href="/jobs">Backup jobs</Link> ›
      </p>
      <h1 id="job-title">
        Backup of {j.serverName} <StateBadge state={j.state} />
      </h1>
      {running && (
        <section className="live" aria-labelledby="progress-title" aria-live="polite">
          <h2 id="progress-title">Progress</h2>
          {j.progress ? (
            <dl className="figures">
              <div>
                <dt>Files found</dt>
                <dd data-field="progress-files">{j.progress.files}</dd>
              </div>
              <div>
                <dt>Read so far</dt>
                <dd data-field="progress-bytes">{bytes(j.progress.bytes)}</dd>
              </div>
              <div>
                <dt>Sent so far</dt>
                <dd data-field="progress-sent" data-bytes={j.progress.sent}>
                  {bytes(j.progress.sent)}
                </dd>
              </div>
              <div>
                <dt>Running for</dt>
                <dd>{duration(j.startedAt)}</dd>
              </div>
              <div>
                <dt>Errors</dt>
                <dd>{j.progress.errors}</dd>
              </div>
              <div>
                <dt>Reported</dt>
                <dd>{time(j.progress.at)}</dd>
              </div>
            </dl>
          ) : (
            <p>Started; waiting for the agent's first progress report…</p>
          )}
        </section>
      )}
      <h2>Details</h2>
      <dl className="details">
        <dt>State</dt>
        <dd>{j.state}</dd>
        <dt>Vault</dt>
        <dd>{j.vaultName}</dd>
        <dt>Kind</dt>
        <dd>{j.kind}</dd>
        <dt>Started</dt>
        <dd>{time(j.startedAt)}</dd>
        <dt>Ended</dt>
        <dd>{time(j.endedAt)}</dd>
        <dt>Duration</dt>
        <dd>{duration(j.startedAt, j.endedAt)}</dd>
        <dt>Files</dt>
        <dd>{running ? 'counted when the job ends' : `${j.filesNew} new, ${j.filesChanged} changed, ${j.filesUnchanged} unchanged`}</dd>
        <dt>Bytes read</dt>
        <dd>{running ? '—' : bytes(j.bytesRead)}</dd>
        <dt>Bytes sent</dt>
        <dd>{running ? '—' : bytes(j.bytesSent)}</dd>
        <dt>Warnings</dt>
        <dd>{j.warnings}</dd>
        <dt>Errors</dt>
        <dd className={j.error ? 'error' : undefined}>{j.error ?? 'none'}</dd>
        {j.message && (
          <>
            <dt>Note</dt>
            <dd>{j.message}</dd>
          </>
        )}
        {j.snapshotId && (
          <>
            <dt>Recovery point</dt>
            <dd>
              <Link href={`/recovery-points/${j.serverId}`}>
                <code>{j.snapshotId.slice(0, 12)}</code>
              </Link>
            </dd>
          </>
        )}
      </dl>
      {j.hooks && <Hooks hooks={j.hooks} />}
    </section>
  );
}

/** How the job's hooks ran, each with the end of its output (what the agent kept: the last 4 KiB). */
function Hooks({ hooks }: { hooks: JobHooks }) {
  const runs: [string, HookRun][] = [
    ...(hooks.owed ?? []).map((h): [string, HookRun] => ['Owed post hook (of an interrupted run)', h]),
    ...(hooks.pre ? [['Pre hook', hooks.pre] as [string, HookRun]] : []),
    ...(hooks.post ? [['Post hook', hooks.post] as [string, HookRun]] : []),
  ];
  return (
    <section className="logs" aria-labelledby="hooks-title">
      <h2 id="hooks-title">Hooks</h2>
      {runs.map(([label, run], i) => (
        <article key={i} data-hook={label}>
          <h3>
            {label}: <code>{run.command}</code>
          </h3>
          <p className={run.exitCode === 0 ? undefined : 'error'} data-field="hook-outcome">
            {outcome(run)} in {(run.durationMs / 1000).toFixed(1)} s
          </p>
          {run.output.trim() ? <pre data-field="hook-output">{run.output}</pre> : <p>No output.</p>}
        </article>
      ))}
    </section>
  );
}

function outcome(run: HookRun): string {
  if (run.signal) return `killed by ${run.signal}`;
  return run.exitCode === null ? 'could not start' : `exited with status ${run.exitCode}`;
}
