import { useState } from 'react';
import type { AlertList } from '../../../src/api/schemas.js';
import { time } from '../format.js';
import { useLiveEvent, useResource } from '../live.js';
import { Link } from '../router.js';
import { Problem } from './common.js';

/** What was raised, and whether it cleared: the record behind the mails and webhooks (docs/alerts.md). */
export function AlertsPage({ sub }: { sub: string }) {
  const [all, setAll] = useState(false);
  const list = useResource<AlertList>(`${sub}/alerts${all ? '?state=all' : ''}`);
  // A job or an import changing may raise or clear an alert at the next round: look again.
  useLiveEvent('backup-job', list.reload);
  useLiveEvent('import-job', list.reload);
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label className="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Show resolved alerts too
        </label>
      </form>
      {list.error ? (
        <Problem error={list.error} />
      ) : !list.data ? (
        <p className="loading">Loading…</p>
      ) : list.data.alerts.length === 0 ? (
        <p>{all ? 'No alert has been raised yet.' : 'No open alerts.'}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>{all ? 'Alerts, newest first' : 'Open alerts, newest first'}</caption>
            <thead>
              <tr>
                <th scope="col">Raised</th>
                <th scope="col">Kind</th>
                <th scope="col">What</th>
                <th scope="col">Resolved</th>
              </tr>
            </thead>
            <tbody>
              {list.data.alerts.map((a) => (
                <tr key={a.id} className={a.resolvedAt ? 'resolved' : 'open'}>
                  <th scope="row">{time(a.raisedAt)}</th>
                  <td>
                    <span className={`state ${a.resolvedAt ? 'state-Completed' : 'state-Failed'}`}>{a.kind}</span>
                  </td>
                  <td>
                    <Link href={a.link}>{a.message}</Link>
                    {a.vaultName && <span className="muted"> (vault {a.vaultName})</span>}
                  </td>
                  <td>{a.resolvedAt ? time(a.resolvedAt) : 'open'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="hint">
        Alerts go by e-mail and signed webhooks to the targets set with <code>driveseed alerts add</code>.
      </p>
    </section>
  );
}
