import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import type { Session } from '../../src/api/schemas.js';
import { api, ApiError, onSignedOut } from './api.js';
import { LiveProvider, useLive } from './live.js';
import { Link, match, navigate, usePath } from './router.js';
import { SignIn } from './pages/SignIn.js';
import { OverviewPage } from './pages/Overview.js';
import { BackupJobsPage } from './pages/BackupJobs.js';
import { BackupJobPage } from './pages/BackupJob.js';
import { ImportJobsPage } from './pages/ImportJobs.js';
import { ImportJobPage } from './pages/ImportJob.js';
import { DatacenterPage } from './pages/Datacenter.js';
import { AlertsPage } from './pages/Alerts.js';

// The chart library is only needed on this page: it stays out of the first page's bundle.
const RecoveryPointsPage = lazy(() => import('./pages/RecoveryPoints.js'));

type SessionState = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'signed-in'; session: Session };

export function App() {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const path = usePath();

  useEffect(() => {
    api<Session>('GET', '/v1/session').then(
      (session) => setState({ kind: 'signed-in', session }),
      () => setState({ kind: 'signed-out' }),
    );
    return onSignedOut(() => setState({ kind: 'signed-out' }));
  }, []);

  useEffect(() => {
    if (state.kind === 'signed-out' && path !== '/sign-in') navigate(`/sign-in`, true);
    if (state.kind === 'signed-in' && path === '/sign-in') navigate(state.session.role === 'operator' ? '/datacenter' : '/', true);
  }, [state, path]);

  if (state.kind === 'loading') return <p className="loading">Loading…</p>;
  if (state.kind === 'signed-out') return <SignIn onSignedIn={(session) => setState({ kind: 'signed-in', session })} />;
  const { session } = state;
  const events = session.role === 'operator' ? '/v1/datacenter/events' : `/v1/subscriptions/${session.subscriptionId}/events`;
  return (
    <LiveProvider url={events}>
      <Shell session={session} path={path} onSignedOut={() => setState({ kind: 'signed-out' })}>
        <Page session={session} path={path} />
      </Shell>
    </LiveProvider>
  );
}

function Page({ session, path }: { session: Session; path: string }) {
  if (session.role === 'operator') return <DatacenterPage />;
  const sub = `/v1/subscriptions/${session.subscriptionId}`;
  let params: Record<string, string> | undefined;
  if (path === '/' || path === '') return <OverviewPage sub={sub} />;
  if (path === '/jobs') return <BackupJobsPage sub={sub} />;
  if ((params = match('/jobs/:jobId', path))) return <BackupJobPage sub={sub} jobId={params.jobId} />;
  if (path === '/recovery-points' || (params = match('/recovery-points/:serverId', path))) {
    return (
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <RecoveryPointsPage sub={sub} serverId={params?.serverId} />
      </Suspense>
    );
  }
  if (path === '/import-jobs') return <ImportJobsPage sub={sub} />;
  if (path === '/alerts') return <AlertsPage sub={sub} />;
  if ((params = match('/import-jobs/:name', path))) return <ImportJobPage sub={sub} name={params.name} />;
  return <NotFound what={`No page at ${path}.`} />;
}

export function NotFound({ what }: { what: string }) {
  return (
    <section aria-labelledby="not-found">
      <h1 id="not-found">Not found</h1>
      <p>{what}</p>
      <p>
        <Link href="/">Back to the overview</Link>
      </p>
    </section>
  );
}

const OWNER_NAV = [
  { href: '/', label: 'Overview' },
  { href: '/jobs', label: 'Backup jobs' },
  { href: '/recovery-points', label: 'Recovery points' },
  { href: '/import-jobs', label: 'Import jobs' },
  { href: '/alerts', label: 'Alerts' },
];

function Shell({ session, path, onSignedOut, children }: { session: Session; path: string; onSignedOut: () => void; children: ReactNode }) {
  const live = useLive();
  const main = useRef<HTMLElement>(null);
  const firstPath = useRef(path);
  // After an in-page navigation, focus goes to the new content, as a page load would put it at the top.
  useEffect(() => {
    if (path !== firstPath.current) main.current?.focus();
    firstPath.current = '';
  }, [path]);
  const nav = session.role === 'operator' ? [{ href: '/datacenter', label: 'Data centre' }] : OWNER_NAV;
  const signOut = async () => {
    await api('DELETE', '/v1/session').catch((e: unknown) => {
      if (!(e instanceof ApiError && e.status === 401)) throw e;
    });
    onSignedOut();
  };
  const current = (href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));
  return (
    <>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">driveseed</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={current(item.href) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">{session.role === 'operator' ? 'Operator' : 'Owner'}</span>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {!live.connected && (
        <p className="banner" role="status">
          Reconnecting to the service… the page updates again when it is back.
        </p>
      )}
      <main id="content" tabIndex={-1} ref={main}>
        {children}
      </main>
    </>
  );
}
