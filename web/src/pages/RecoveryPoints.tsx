import type { Overview, Retention, ServerStatus } from '../../../src/api/schemas.js';
import { bytes, time } from '../format.js';
import { useResource } from '../live.js';
import { Link } from '../router.js';
import { StoredBytesChart } from '../StoredBytesChart.js';
import { NotFoundText, Problem } from './common.js';

/** Recovery points of one protected item, oldest first in the chart and newest first in the table. */
export default function RecoveryPointsPage({ sub, serverId }: { sub: string; serverId?: string }) {
  const overview = useResource<Overview>(`${sub}/overview`);
  if (overview.error) return <Problem error={overview.error} />;
  if (!overview.data) return <p className="loading">Loading…</p>;
  const items = overview.data.items;
  const item = serverId ? items.find((i) => i.serverId === serverId) : items[0];
  return (
    <section aria-labelledby="points-title">
      <h1 id="points-title">Recovery points</h1>
      {items.length > 1 && (
        <nav aria-label="Protected items" className="subnav">
          <ul>
            {items.map((i) => (
              <li key={i.serverId}>
                <Link href={`/recovery-points/${i.serverId}`} aria-current={i === item ? 'page' : undefined}>
                  {i.serverName}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {!item ? (
        serverId ? (
          <NotFoundText what={`No protected item ${serverId} in this subscription.`} />
        ) : (
          <p>No protected items yet.</p>
        )
      ) : (
        <ItemPoints sub={sub} vaultName={item.vaultName} serverId={item.serverId} serverName={item.serverName} />
      )}
    </section>
  );
}

function ItemPoints({ sub, vaultName, serverId, serverName }: { sub: string; vaultName: string; serverId: string; serverName: string }) {
  const status = useResource<ServerStatus>(`${sub}/vaults/${vaultName}/servers/${serverId}`);
  if (status.error) return <Problem error={status.error} />;
  if (!status.data) return <p className="loading">Loading…</p>;
  const points = [...status.data.recoveryPoints].sort((a, b) => a.time.localeCompare(b.time));
  const jobs = new Map(status.data.jobs.map((j) => [j.id, j]));
  const retention = status.data.server.retention;
  return (
    <>
      <h2>{serverName}</h2>
      <p className="retention">
        Retention: {retention ? describeRetention(retention) : 'none — the vault keeps every recovery point'}
        {retention && ' (applied by the agent after each backup; expiry dates assume one backup a day from now on)'}
      </p>
      {points.length === 0 ? (
        <p>No recovery points yet.</p>
      ) : (
        <>
          <figure className="chart">
            <StoredBytesChart points={points.map((p) => ({ time: Date.parse(p.time) / 1000, total: p.totalBytes, added: p.addedBytes }))} />
            <figcaption>Bytes protected (total of the item) and bytes stored by each recovery point, over time.</figcaption>
          </figure>
          <div className="table-wrap">
            <table>
              <caption>Recovery points of {serverName}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Files</th>
                  <th scope="col">Size</th>
                  <th scope="col">Changed since the previous one</th>
                  <th scope="col">Stored by this point</th>
                  <th scope="col">Expires</th>
                </tr>
              </thead>
              <tbody>
                {points
                  .map((p, i) => ({ p, previous: points[i - 1] }))
                  .reverse()
                  .map(({ p, previous }) => {
                    const job = jobs.get(p.jobId);
                    return (
                      <tr key={p.id}>
                        <th scope="row">
                          <Link href={`/jobs/${p.jobId}`}>{time(p.time)}</Link>
                        </th>
                        <td>{p.files}</td>
                        <td>{bytes(p.totalBytes)}</td>
                        <td>{describeChange(p, previous, job)}</td>
                        <td>{bytes(p.addedBytes)}</td>
                        <td>{p.expiresAt ? time(p.expiresAt) : retention ? 'kept' : 'never'}</td>
                      </tr>
                    );
                  })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

function describeChange(
  p: { files: number; totalBytes: number },
  previous: { files: number; totalBytes: number } | undefined,
  job: { filesNew: number; filesChanged: number } | undefined,
): string {
  if (!previous) return 'first recovery point';
  const files = job ? `${job.filesNew} new, ${job.filesChanged} changed files` : `${p.files - previous.files >= 0 ? '+' : ''}${p.files - previous.files} files`;
  const delta = p.totalBytes - previous.totalBytes;
  return `${files}; size ${delta >= 0 ? '+' : '−'}${bytes(Math.abs(delta))}`;
}

/** The rules as the agent's flags that set them, so the console and `agent policy` read alike. */
function describeRetention(r: Retention): string {
  const parts: string[] = [];
  for (const rule of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) if (r[rule]) parts.push(`--keep-${rule} ${r[rule]}`);
  if (r.within) parts.push(`--keep-within ${r.within}`);
  for (const tag of r.tags ?? []) parts.push(`--keep-tag ${tag}`);
  return parts.join(' ');
}
