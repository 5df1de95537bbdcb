import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/open-database.js';
import { subscriptionOfOwnerKey } from '../identity/subscriptions.js';
import { verifyBearerToken } from '../identity/tokens.js';
import { forbidden, unauthorized } from './http-error.js';

export interface Caller {
  subscriptionId: string;
  role: 'owner' | 'application';
  applicationId?: string;
}

/**
 * Who is calling: `Authorization: OwnerKey <key>` (the subscription's owner, from the
 * publish-settings file) or `Authorization: Bearer <token>` (an application, from /v1/token).
 */
export async function authenticate(db: Db, request: FastifyRequest, now: Date): Promise<Caller> {
  const header = request.headers.authorization;
  if (!header) throw unauthorized('no credentials: send an owner key or a bearer token');
  const [scheme, value] = header.split(' ', 2);
  if (!value) throw unauthorized('malformed Authorization header');
  if (scheme === 'OwnerKey') return { subscriptionId: await subscriptionOfOwnerKey(db, value), role: 'owner' };
  if (scheme === 'Bearer') {
    const claims = await verifyBearerToken(db, value, now);
    return { subscriptionId: claims.subscriptionId, role: 'application', applicationId: claims.applicationId };
  }
  throw unauthorized(`unsupported authorization scheme ${scheme}`);
}

/** Every call is scoped to its subscription: credentials of another one get 403, never data. */
export function requireSubscription(caller: Caller, subscriptionId: string): void {
  if (caller.subscriptionId !== subscriptionId) throw forbidden('these credentials are for another subscription');
}

export function requireOwner(caller: Caller, subscriptionId: string): void {
  requireSubscription(caller, subscriptionId);
  if (caller.role !== 'owner') throw forbidden('only the subscription owner may do this');
}
