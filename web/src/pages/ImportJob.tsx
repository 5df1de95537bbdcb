import { useState } from 'react';
import type { DriveLogs, ImportJob } from '../../../src/api/schemas.js';
import type { Static } from '@sinclair/typebox';
import { api, ApiError } from '../api.js';
import { bytes, time } from '../format.js';
import { useLiveEvent, useResource } from '../live.js';
import { Link } from '../router.js';
import { KindLabel, Problem, StateBadge } from './common.js';
import { ShippingForm } from './ShippingForm.js';

const JOB_PATH = ['Creating', 'Shipping', 'Received', 'Transferring', 'Packaging'];
const DRIVE_PATH = ['Specified', 'Received', 'Transferring', 'Completed', 'ShippedBack'];

export function ImportJobPage({ sub, name }: { sub: string; name: string }) {
  const path = `${sub}/import-jobs/${encodeURIComponent(name)}`;
  const job = useResource<ImportJob>(path);
  useLiveEvent<ImportJob>('import-job', (changed) => changed.name === name && job.setData(changed));
  if (job.error) return <Problem error={job.error} />;
  const j = job.data;
  if (!j) return <p className="loading">Loading…</p>;
  return (
    <section aria-labelledby="import-title">
      <p className="crumbs">
        <Link href="/import-jobs">Import jobs</Link> ›
      </p>
      <h1 id="import-title">
        Import job {j.name} <KindLabel kind={j.kind} /> <StateBadge state={j.state} />
      </h1>
      {j.deadline && (
        <p className="deadline" role="note">
          {capitalize(j.deadline.what)} <strong>{time(j.deadline.at)}</strong>.
        </p>
      )}
      <h2>Timeline</h2>
      <JobTimeline job={j} />

      <h2>Where to send the drives</h2>
      <address className="ship-to">{j.shippingAddress ?? '—'}</address>
      <p>
        Into storage account <code>{j.storageAccount}</code>, container <code>{j.container}</code>.
      </p>

      <h2>Drives</h2>
      <Drives path={path} job={j} />

      {(j.state === 'Creating' || j.state === 'Shipping') && (
        <>
          <h2>{j.shipping ? 'Correct the shipping details' : 'Shipping details'}</h2>
          <ShippingForm path={`${path}/shipping`} current={j.shipping} onSaved={job.setData} />
        </>
      )}
      {j.shipping && j.state !== 'Creating' && j.state !== 'Shipping' && (
        <>
          <h2>Shipping details</h2>
          <p>
            {j.shipping.carrier}, tracking number {j.shipping.trackingNumber}, shipped {j.shipping.shipDate}; back to {j.shipping.returnAddress}.
          </p>
        </>
      )}
      {j.state === 'Creating' && <CancelJob path={`${path}/cancel`} onCanceled={job.setData} />}
    </section>
  );
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The states a job passes, each with the time it entered it (from the service's state history). */
function JobTimeline({ job }: { job: ImportJob }) {
  const ending = job.state === 'Canceled' ? ['Creating', 'Canceled'] : [...JOB_PATH, job.state === 'Closed' ? 'Closed' : 'Completed'];
  const at = ending.indexOf(job.state);
  const entered = new Map((job.history ?? []).map((e) => [e.state, e.at]));
  const when = (state: string) => entered.get(state) ?? (state === 'Creating' ? job.createdAt : state === job.state ? job.stateChangedAt : undefined);
  return (
    <ol className="timeline" aria-label={`Import job states; now ${job.state}`}>
      {ending.map((state, i) => (
        <li key={state} className={i < at ? 'done' : i === at ? 'current' : 'todo'} aria-current={i === at ? 'step' : undefined}>
          <span className="step">{state}</span>
          {i <= at && when(state) && <span className="when">{time(when(state))}</span>}
        </li>
      ))}
    </ol>
  );
}

function Drives({ path, job }: { path: string; job: ImportJob }) {
  const [open, setOpen] = useState<string>();
  return (
    <>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Drive</th>
              <th scope="col">States</th>
              <th scope="col">Files</th>
              <th scope="col">Size</th>
              <th scope="col">Logs</th>
            </tr>
          </thead>
          <tbody>
            {job.drives.map((d) => (
              <tr key={d.driveId}>
                <th scope="row">
                  <code>{d.driveId}</code>
                </th>
                <td>
                  <DriveStates state={d.state} since={d.stateChangedAt} history={d.history} />
                </td>
                <td>{d.files}</td>
                <td>{bytes(d.bytes)}</td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    aria-expanded={open === d.driveId}
                    aria-controls="drive-logs"
                    onClick={() => setOpen(open === d.driveId ? undefined : d.driveId)}
                  >
                    {open === d.driveId ? 'Hide logs' : 'Show logs'}
                    <span className="visually-hidden"> of drive {d.driveId}</span>
                  </button>
                  {d.hasErrorLog && d.state !== 'Completed' && <span className="error"> errors</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open && <DriveLogView key={`${open}-${job.stateChangedAt}`} path={`${path}/drives/${encodeURIComponent(open)}/logs`} driveId={open} />}
    </>
  );
}

function DriveStates({ state, since, history }: { state: string; since: string; history?: { state: string; at: string }[] }) {
  const entered = new Map((history ?? []).map((e) => [e.state, e.at]));
  const steps =
    state === 'NeverReceived'
      ? ['Specified', 'NeverReceived']
      : state === 'CompletedMoreInfo' || DRIVE_PATH.indexOf(state) < 0
        ? [...DRIVE_PATH.slice(0, 3), 'CompletedMoreInfo', 'ShippedBack']
        : DRIVE_PATH;
  const at = steps.indexOf(state);
  return (
    <ol className="drive-states" aria-label={`Drive states; now ${state} since ${time(since)}`}>
      {steps.map((s, i) => (
        <li
          key={s}
          className={i < at ? 'done' : i === at ? 'current' : 'todo'}
          aria-current={i === at ? 'step' : undefined}
          title={entered.has(s) ? `${s} ${time(entered.get(s))}` : undefined}
        >
          {s}
          {i === at && <span className="when"> {time(entered.get(s) ?? since)}</span>}
        </li>
      ))}
    </ol>
  );
}

function DriveLogView({ path, driveId }: { path: string; driveId: string }) {
  const logs = useResource<Static<typeof DriveLogs>>(path);
  return (
    <section id="drive-logs" className="logs" aria-labelledby="logs-title">
      <h3 id="logs-title">Logs of drive {driveId}</h3>
      {logs.error ? (
        <Problem error={logs.error} />
      ) : !logs.data ? (
        <p className="loading">Loading…</p>
      ) : (
        <>
          <h4>Error log</h4>
          <pre tabIndex={0} aria-label="Error log" className="error-log">
            {logs.data.errorLog || 'No errors (or the drive has not been imported yet).'}
          </pre>
          <details>
            <summary>Verbose log</summary>
            <pre tabIndex={0} aria-label="Verbose log">
              {logs.data.verboseLog || 'Empty.'}
            </pre>
          </details>
        </>
      )}
    </section>
  );
}

function CancelJob({ path, onCanceled }: { path: string; onCanceled: (job: ImportJob) => void }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string>();
  const cancel = async () => {
    try {
      onCanceled(await api<ImportJob>('POST', path));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <section aria-labelledby="cancel-title" className="danger">
      <h2 id="cancel-title">Cancel the job</h2>
      <p>A job can be canceled until its shipping details are entered.</p>
      {!asking ? (
        <button type="button" className="secondary" onClick={() => setAsking(true)}>
          Cancel this import job…
        </button>
      ) : (
        <p>
          <button type="button" className="danger" onClick={() => void cancel()}>
            Yes, cancel it
          </button>{' '}
          <button type="button" className="secondary" onClick={() => setAsking(false)}>
            Keep it
          </button>
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
