import type { ApiError } from '../api.js';
import { Link } from '../router.js';

/** One clear line for a failed load; "not found" for another subscription's ids as for missing ones. */
export function Problem({ error }: { error: ApiError }) {
  if (error.status === 404 || error.status === 403) {
    return (
      <section aria-labelledby="problem-title">
        <h1 id="problem-title">Not found</h1>
        <p>{error.status === 404 ? error.message : 'There is nothing like this in your subscription.'}</p>
        <p>
          <Link href="/">Back to the overview</Link>
        </p>
      </section>
    );
  }
  return (
    <p className="error" role="alert">
      {error.message}
    </p>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`state state-${state}`}>{state}</span>;
}

/** Marks an offline delta's import job beside the seeds: a later import into the same repository. */
export function KindLabel({ kind }: { kind?: string }) {
  return kind === 'delta' ? (
    <span className="kind" title="offline delta: a large change after the seed, shipped on drives into the same repository">
      delta
    </span>
  ) : null;
}

export function NotFoundText({ what }: { what: string }) {
  return <p role="alert">{what}</p>;
}
