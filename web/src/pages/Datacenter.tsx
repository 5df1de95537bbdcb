import type { DatacenterView } from '../../../src/api/schemas.js';
import { bytes, time } from '../format.js';
import { useLiveEvent, useResource } from '../live.js';
import { Problem, StateBadge } from './common.js';

/** The operator's page: what is on the way, what waits to be imported, and every job's drives. */
export function DatacenterPage() {
  const view = useResource<DatacenterView>('/v1/datacenter');
  useLiveEvent('import-job', view.reload);
  if (view.error) return <Problem error={view.error} />;
  const v = view.data;
  if (!v) return <p className="loading">Loading…</p>;
  return (
    <section aria-labelledby="dc-title">
      <h1 id="dc-title">Data centre</h1>
      <h2>Incoming</h2>
      {v.incoming.length === 0 ? (
        <p>No drives on the way.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Subscription</th>
                <th scope="col">Carrier / tracking</th>
                <th scope="col">Drives</th>
                <th scope="col">Must arrive by</th>
              </tr>
            </thead>
            <tbody>
              {v.incoming.map((j) => (
                <tr key={j.id}>
                  <th scope="row">{j.name}</th>
                  <td>
                    <code>{j.subscriptionId.slice(0, 8)}</code>
                  </td>
                  <td>{j.shipping ? `${j.shipping.carrier} ${j.shipping.trackingNumber}` : '—'}</td>
                  <td>{j.drives.length}</td>
                  <td>{time(j.deadline?.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Import queue</h2>
      {v.queue.length === 0 ? (
        <p>No drives waiting to be imported.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Drive</th>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
                <th scope="col">Size</th>
                <th scope="col">Import</th>
              </tr>
            </thead>
            <tbody>
              {v.queue.map((d) => (
                <tr key={d.driveId}>
                  <th scope="row">
                    <code>{d.driveId}</code>
                  </th>
                  <td>{d.jobName}</td>
                  <td>
                    <StateBadge state={d.state} />
                  </td>
                  <td>{time(d.since)}</td>
                  <td>{bytes(d.bytes)}</td>
                  <td>{importProgress(d.queue)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>All import jobs</h2>
      {v.jobs.length === 0 ? (
        <p>No import jobs.</p>
      ) : (
        <ul className="dc-jobs">
          {v.jobs.map((j) => {
            const done = j.drives.filter((d) => ['Completed', 'CompletedMoreInfo', 'ShippedBack'].includes(d.state)).length;
            return (
              <li key={j.id}>
                <h3>
                  {j.name} <StateBadge state={j.state} />
                </h3>
                <p>
                  <label>
                    Imported {done} of {j.drives.length} drives <progress max={j.drives.length} value={done} />
                  </label>
                </p>
                <ul>
                  {j.drives.map((d) => (
                    <li key={d.driveId}>
                      <code>{d.driveId}</code> <StateBadge state={d.state} /> since {time(d.stateChangedAt)}
                    </li>
                  ))}
                </ul>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** The queue's view of a drive: waiting, or how far the worker holding it got. */
function importProgress(queue: { state: string; claimedBy?: string; bytesDone: number; bytesTotal: number } | undefined): string {
  if (!queue) return '—';
  if (queue.state === 'queued') return 'waiting for a worker';
  const share = queue.bytesTotal > 0 ? ` (${Math.floor((100 * queue.bytesDone) / queue.bytesTotal)}%)` : '';
  return `${bytes(queue.bytesDone)} of ${bytes(queue.bytesTotal)}${share}${queue.claimedBy ? `, ${queue.claimedBy}` : ''}`;
}
