import type { ImportJob } from '../../../src/api/schemas.js';
import { count, time } from '../format.js';
import { useLiveEvent, useResource } from '../live.js';
import { Link } from '../router.js';
import { KindLabel, Problem, StateBadge } from './common.js';

export function ImportJobsPage({ sub }: { sub: string }) {
  const list = useResource<{ jobs: ImportJob[] }>(`${sub}/import-jobs`);
  useLiveEvent('import-job', list.reload);
  if (list.error) return <Problem error={list.error} />;
  if (!list.data) return <p className="loading">Loading…</p>;
  return (
    <section aria-labelledby="imports-title">
      <h1 id="imports-title">Import jobs</h1>
      {list.data.jobs.length === 0 ? (
        <p>
          No import jobs. <code>driveseed diskprep</code> prepares the drives of an offline seed (or of an offline delta) and creates one.
        </p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Drives</th>
                <th scope="col">Storage account / container</th>
                <th scope="col">Next deadline</th>
              </tr>
            </thead>
            <tbody>
              {list.data.jobs.map((job) => (
                <tr key={job.id}>
                  <th scope="row">
                    <Link href={`/import-jobs/${encodeURIComponent(job.name)}`}>{job.name}</Link> <KindLabel kind={job.kind} />
                  </th>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td>{count(job.drives.length, 'drive')}</td>
                  <td>
                    {job.storageAccount} / {job.container}
                  </td>
                  <td>{job.deadline ? `${job.deadline.what} ${time(job.deadline.at)}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
