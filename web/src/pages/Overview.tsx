import type { Overview } from '../../../src/api/schemas.js';
import { bytes, count, time } from '../format.js';
import { useLiveEvent, useResource } from '../live.js';
import { Link } from '../router.js';
import { Problem, StateBadge } from './common.js';

export function OverviewPage({ sub }: { sub: string }) {
  const overview = useResource<Overview>(`${sub}/overview`);
  // Any job that changes may change a line here: fetch the summary again.
  useLiveEvent('backup-job', overview.reload);
  useLiveEvent('import-job', overview.reload);
  if (overview.error) return <Problem error={overview.error} />;
  const data = overview.data;
  if (!data) return <p className="loading">Loading…</p>;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <dl className="figures">
        <div>
          <dt>Vaults</dt>
          <dd>{data.vaults.length}</dd>
        </div>
        <div>
          <dt>Registered servers</dt>
          <dd>{data.vaults.reduce((n, v) => n + v.servers, 0)}</dd>
        </div>
        <div>
          <dt>Protected items</dt>
          <dd>{data.items.filter((i) => i.paths.length > 0 || i.commandItems.length > 0).length}</dd>
        </div>
        <div>
          <dt>Storage used</dt>
          <dd>{bytes(data.storedBytes)}</dd>
        </div>
        <div>
          <dt>Import jobs</dt>
          <dd>{data.importJobs}</dd>
        </div>
      </dl>

      <h2>Needs attention</h2>
      {data.attention.length === 0 ? (
        <p>Nothing needs attention.</p>
      ) : (
        <ul className="attention">
          {data.attention.map((a, i) => (
            <li key={i} className={a.kind}>
              <Link href={a.link}>{a.message}</Link>
            </li>
          ))}
        </ul>
      )}

      <h2>Protected items</h2>
      {data.items.length === 0 ? (
        <p>
          No server is registered yet: run <code>driveseed agent register</code> on one.
        </p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Vault</th>
                <th scope="col">Paths</th>
                <th scope="col">Command items</th>
                <th scope="col">Last backup</th>
                <th scope="col">Recovery points</th>
                <th scope="col">Stored</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => (
                <tr key={item.serverId}>
                  <th scope="row">{item.serverName}</th>
                  <td>{item.vaultName}</td>
                  <td>{item.paths.join(', ') || '—'}</td>
                  <td data-field="command-items">
                    {item.commandItems.length === 0
                      ? '—'
                      : item.commandItems.map((c, i) => (
                          <span key={c.name} title={`stored ${time(c.storedAt)}`}>
                            {i > 0 && ', '}
                            <code>{c.name}</code> {bytes(c.bytes)}
                          </span>
                        ))}
                  </td>
                  <td>
                    {item.lastJob ? (
                      <Link href={`/jobs/${item.lastJob.id}`}>
                        <StateBadge state={item.lastJob.state} /> {time(item.lastJob.startedAt)}
                      </Link>
                    ) : (
                      'never'
                    )}
                  </td>
                  <td>
                    <Link href={`/recovery-points/${item.serverId}`}>{count(item.recoveryPoints, 'point')}</Link>
                  </td>
                  <td>{bytes(item.storedBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
