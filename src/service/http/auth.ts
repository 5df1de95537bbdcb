import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/open-database.js';
import { findSession, isOperatorKey, sessionTokenOf } from '../identity/console-sessions.js';
import { subscriptionOfOwnerKey } from '../identity/subscriptions.js';
import { verifyBearerToken } from '../identity/tokens.js';
import { DriveseedError } from '../../core/errors.js';

export interface Caller {
  /** Empty for the operator, who belongs to no subscription. */
  subscriptionId: string;
  role: 'owner' | 'application' | 'operator';
  applicationId?: string;
}

/**
 * The console sends this header on every request that changes something. A cookie travels
 * with any request the browser makes, but another site cannot add a custom header without
 * a CORS preflight that this service never grants: SameSite=Strict plus this is the CSRF guard.
 */
export const CONSOLE_HEADER = 'x-driveseed-console';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who is calling: `Authorization: OwnerKey <key>` (the subscription's owner, from the
 * publish-settings file), `Authorization: Bearer <token>` (an application, from /v1/token),
 * `Authorization: OperatorKey <key>` (the data centre), or the console's session cookie.
 */
export async function authenticate(db: Db, request: FastifyRequest, now: Date): Promise<Caller> {
  const header = request.headers.authorization;
  if (!header) return sessionCaller(db, request, now);
  const [scheme, value] = header.split(' ', 2);
  if (!value) throw new DriveseedError('UNAUTHORIZED', 'malformed Authorization header');
  if (scheme === 'OwnerKey') return { subscriptionId: await subscriptionOfOwnerKey(db, value), role: 'owner' };
  if (scheme === 'Bearer') {
    const claims = await verifyBearerToken(db, value, now);
    return { subscriptionId: claims.subscriptionId, role: 'application', applicationId: claims.applicationId };
  }
  if (scheme === 'OperatorKey') {
    if (!(await isOperatorKey(db, value))) throw new DriveseedError('UNAUTHORIZED', 'unknown operator key');
    return { subscriptionId: '', role: 'operator' };
  }
  throw new DriveseedError('UNAUTHORIZED', `unsupported authorization scheme ${scheme}`);
}

async function sessionCaller(db: Db, request: FastifyRequest, now: Date): Promise<Caller> {
  const token = sessionTokenOf(request.headers.cookie);
  if (!token) throw new DriveseedError('UNAUTHORIZED', 'no credentials: send an owner key or a bearer token');
  if (!SAFE_METHODS.has(request.method) && request.headers[CONSOLE_HEADER] !== '1')
    throw new DriveseedError('FORBIDDEN', `requests that change something need the ${CONSOLE_HEADER} header`);
  const session = await findSession(db, token, now);
  return { subscriptionId: session.subscriptionId ?? '', role: session.role };
}

/** Every call is scoped to its subscription: credentials of another one get 403, never data. */
export function requireSubscription(caller: Caller, subscriptionId: string): void {
  if (caller.role === 'operator' || caller.subscriptionId !== subscriptionId)
    throw new DriveseedError('FORBIDDEN', 'these credentials are for another subscription');
}

export function requireOwner(caller: Caller, subscriptionId: string): void {
  requireSubscription(caller, subscriptionId);
  if (caller.role !== 'owner') throw new DriveseedError('FORBIDDEN', 'only the subscription owner may do this');
}

export function requireOperator(caller: Caller): void {
  if (caller.role !== 'operator') throw new DriveseedError('FORBIDDEN', "only the data centre's operator may do this");
}
