import type { ErrorBody } from '../../src/api/schemas.js';

/** An answer of the service that is not a success: its status, stable code, message and the field at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Every request the console makes; the header is the service's CSRF guard for cookie sign-ins. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-driveseed-console': '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'The service cannot be reached; retrying when it is back.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = parsed as Partial<ErrorBody> | undefined;
    if (response.status === 401) signedOutListeners.forEach((fn) => fn());
    throw new ApiError(response.status, error?.error ?? 'ERROR', error?.message ?? `${response.status} ${response.statusText}`, error?.field);
  }
  return parsed as T;
}

const signedOutListeners = new Set<() => void>();
/** Any 401 means the session is gone (expired, signed out elsewhere): the app shows the sign-in page. */
export function onSignedOut(fn: () => void): () => void {
  signedOutListeners.add(fn);
  return () => signedOutListeners.delete(fn);
}
