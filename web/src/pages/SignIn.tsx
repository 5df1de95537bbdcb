import { useState, type FormEvent } from 'react';
import type { Session } from '../../../src/api/schemas.js';
import { api, ApiError } from '../api.js';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api<Session>('POST', '/v1/session', { key: key.trim() }));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401 ? 'That key was not accepted. Check it and try again.' : err instanceof Error ? err.message : String(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="content" className="sign-in">
      <h1>Sign in to driveseed</h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <label htmlFor="key">Owner key</label>
        <input
          id="key"
          name="key"
          type="password"
          autoComplete="current-password"
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'key-error key-hint' : 'key-hint'}
        />
        <p id="key-hint" className="hint">
          The subscription's owner key, printed by <code>driveseed service start</code> and kept in the data directory's bootstrap.json. The data centre's
          operator signs in with the operator key.
        </p>
        {error && (
          <p id="key-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
