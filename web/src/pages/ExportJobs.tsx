import type { ExportJob } from '../../../src/api/schemas.js';
import { bytes, count, time } from '../format.js';
import { useResource } from '../live.js';
import { Problem, StateBadge } from './common.js';

/** Export jobs (restore by drive), beside the import jobs: what each carries, where it stands, what comes next. */
export function ExportJobsPage({ sub }: { sub: string }) {
  const list = useResource<{ jobs: ExportJob[] }>(`${sub}/export-jobs`);
  if (list.error) return <Problem error={list.error} />;
  if (!list.data) return <p className="loading">Loading…</p>;
  return (
    <section aria-labelledby="exports-title">
      <h1 id="exports-title">Export jobs</h1>
      {list.data.jobs.length === 0 ? (
        <p>
          No export jobs. <code>driveseed agent export --job NAME latest</code> asks for one: the data centre writes the recovery point onto your blank drives
          and ships them back.
        </p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Export jobs">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Server / recovery point</th>
                <th scope="col">To write</th>
                <th scope="col">Drives</th>
                <th scope="col">Next deadline</th>
                <th scope="col">Tracking (to us / back)</th>
              </tr>
            </thead>
            <tbody>
              {list.data.jobs.map((job) => (
                <tr key={job.id}>
                  <th scope="row">{job.name}</th>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td>
                    {job.serverName} / <code>{job.snapshotId.slice(0, 8)}</code>
                  </td>
                  <td>
                    {count(job.files, 'file')} ({bytes(job.bytes)})
                  </td>
                  <td>{job.drives.length === 0 ? 'none written yet' : job.drives.map((d) => `${d.driveId.slice(0, 8)} ${d.state}`).join(', ')}</td>
                  <td>{job.deadline ? `${job.deadline.what} ${time(job.deadline.at)}` : '—'}</td>
                  <td>
                    {job.shipping?.trackingNumber ?? '—'} / {job.returnTrackingNumber ?? '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
