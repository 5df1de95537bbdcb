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

export function NotFoundText({ what }: { what: string }) {
  return <p role="alert">{what}</p>;
}
