import { useState } from 'react';
import type { ConsoleBackupJob, ConsoleBackupJobList } from '../../../src/api/schemas.js';
import { bytes, duration, time } from '../format.js';
import { useLiveEvent, useResource } from '../live.js';
import { Link } from '../router.js';
import { Problem, StateBadge } from './common.js';

const STATES = ['InProgress', 'Completed', 'CompletedWithWarnings', 'Failed', 'Waiting', 'Superseded'];

export function BackupJobsPage({ sub }: { sub: string }) {
  const [state, setState] = useState('');
  const [server, setServer] = useState('');
  const query = new URLSearchParams({ ...(state ? { state } : {}), ...(server ? { serverId: server } : {}) }).toString();
  const list = useResource<ConsoleBackupJobList>(`${sub}/backup-jobs${query ? `?${query}` : ''}`);
  const all = useResource<ConsoleBackupJobList>(`${sub}/backup-jobs?limit=500`);
  // A new job, or a running one that moved on: update the row in place, or fetch the list for a new one.
  useLiveEvent<ConsoleBackupJob>('backup-job', (job) => {
    if (!list.data) return;
    const at = list.data.jobs.findIndex((j) => j.id === job.id);
    if (at < 0 || (state && job.state !== state)) return list.reload();
    list.setData({ jobs: list.data.jobs.map((j) => (j.id === job.id ? job : j)) });
  });
  const servers = [...new Map((all.data?.jobs ?? []).map((j) => [j.serverId, j.serverName])).entries()];

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Backup jobs</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          State
          <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Server
          <select value={server} onChange={(e) => setServer(e.target.value)}>
            <option value="">any</option>
            {servers.map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </form>
      {list.error ? <Problem error={list.error} /> : !list.data ? <p className="loading">Loading…</p> : <JobTable jobs={list.data.jobs} />}
    </section>
  );
}

function JobTable({ jobs }: { jobs: ConsoleBackupJob[] }) {
  if (jobs.length === 0) return <p>No backup jobs match.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Server</th>
            <th scope="col">State</th>
            <th scope="col">Duration</th>
            <th scope="col">Files</th>
            <th scope="col">Read</th>
            <th scope="col">Sent</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id}>
              <th scope="row">
                <Link href={`/jobs/${job.id}`}>{time(job.startedAt)}</Link>
              </th>
              <td>
                {job.serverName} <span className="muted">({job.vaultName})</span>
              </td>
              <td>
                <StateBadge state={job.state} />
              </td>
              <td>{duration(job.startedAt, job.endedAt)}</td>
              <td>{job.state === 'InProgress' ? (job.progress?.files ?? 0) : job.filesNew + job.filesChanged + job.filesUnchanged}</td>
              <td>{bytes(job.state === 'InProgress' ? (job.progress?.bytes ?? 0) : job.bytesRead)}</td>
              <td>{bytes(job.state === 'InProgress' ? (job.progress?.sent ?? 0) : job.bytesSent)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
