import { randomBytes } from 'node:crypto';
import type { Db } from '../db/open-database.js';
import { DriveseedError } from '../../core/errors.js';
import { hashSecret, secretMatches } from './secrets.js';

export const SESSION_COOKIE = 'driveseed_session';
/** A working day: long enough not to interrupt, short enough that a forgotten browser signs itself out. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const OPERATOR_SECRET = 'operator_key_hash';

export interface ConsoleSession {
  role: 'owner' | 'operator';
  subscriptionId?: string;
  expiresAt: string;
}

/** One message for every refused key: which part was wrong is nobody's business. */
const refused = () => new DriveseedError('UNAUTHORIZED', 'this key was not accepted');

/**
 * Signs in with an owner key (one subscription) or the operator key (the data centre) and
 * returns the cookie's token. Only its hash is stored, shared by every service instance.
 */
export async function createSession(db: Db, key: string, now: Date): Promise<{ token: string; session: ConsoleSession }> {
  const subscription = await db.selectFrom('subscriptions').select('id').where('owner_key_hash', '=', hashSecret(key)).executeTakeFirst();
  let session: ConsoleSession;
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS).toISOString();
  if (subscription) session = { role: 'owner', subscriptionId: subscription.id, expiresAt };
  else if (await isOperatorKey(db, key)) session = { role: 'operator', expiresAt };
  else throw refused();
  const token = randomBytes(32).toString('base64url');
  await db.deleteFrom('console_sessions').where('expires_at', '<', now.toISOString()).execute();
  await db
    .insertInto('console_sessions')
    .values({
      token_hash: hashSecret(token),
      role: session.role,
      subscription_id: session.subscriptionId ?? null,
      created_at: now.toISOString(),
      expires_at: expiresAt,
    })
    .execute();
  return { token, session };
}

export async function findSession(db: Db, token: string, now: Date): Promise<ConsoleSession> {
  const row = await db.selectFrom('console_sessions').selectAll().where('token_hash', '=', hashSecret(token)).executeTakeFirst();
  if (!row || row.expires_at <= now.toISOString()) throw new DriveseedError('UNAUTHORIZED', 'your console session has ended; sign in again');
  return { role: row.role as ConsoleSession['role'], ...(row.subscription_id ? { subscriptionId: row.subscription_id } : {}), expiresAt: row.expires_at };
}

export async function deleteSession(db: Db, token: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('token_hash', '=', hashSecret(token)).execute();
}

export async function isOperatorKey(db: Db, key: string): Promise<boolean> {
  const row = await db.selectFrom('service_secrets').select('value').where('name', '=', OPERATOR_SECRET).executeTakeFirst();
  return !!row && secretMatches(key, row.value);
}

/** The data centre's key, made once per service (at bootstrap, or on the first start of an older data dir). */
export async function ensureOperatorKey(db: Db, now: Date): Promise<string | undefined> {
  const existing = await db.selectFrom('service_secrets').select('name').where('name', '=', OPERATOR_SECRET).executeTakeFirst();
  if (existing) return undefined;
  const key = `dsop_${randomBytes(32).toString('base64url')}`;
  const inserted = await db
    .insertInto('service_secrets')
    .values({ name: OPERATOR_SECRET, value: hashSecret(key), created_at: now.toISOString() })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  // Another instance starting at the same moment may have won; then its key is the one.
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 ? key : undefined;
}

/** The session token from a Cookie header, if any. */
export function sessionTokenOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=') || undefined;
  }
  return undefined;
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
