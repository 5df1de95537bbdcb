import { createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { TokenResponse } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import { DriveseedError } from '../../core/errors.js';

/** Bearer tokens live an hour, like Azure AD's; assertions may live 10 minutes at most. */
export const TOKEN_LIFETIME_SECONDS = 3600;
const MAX_ASSERTION_SECONDS = 600;
const ISSUER = 'driveseed';
const SIGNING_KEY = 'token-signing-key';

export interface TokenClaims {
  subscriptionId: string;
  applicationId: string;
  /** The certificate whose assertion the token was exchanged for (tokens of older services have none). */
  thumbprint?: string;
}

/**
 * Keys never change once made, so each instance reads its database's key once, and keeps it
 * imported: given raw bytes (or a secret KeyObject), jose imports them into WebCrypto on every
 * verify, which was a tenth of the service's CPU with 50 clients reading a server's status.
 */
const signingKeys = new WeakMap<Db, Promise<webcrypto.CryptoKey>>();

/** The HMAC key all service instances share through the database, made on first use. */
export function signingKey(db: Db, now: Date): Promise<webcrypto.CryptoKey> {
  let key = signingKeys.get(db);
  if (!key) {
    key = loadOrCreateSigningKey(db, now).then((bytes) =>
      webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    );
    // A failed read (the database down) is not kept: the next request tries again.
    key.catch(() => signingKeys.delete(db));
    signingKeys.set(db, key);
  }
  return key;
}

async function loadOrCreateSigningKey(db: Db, now: Date): Promise<Uint8Array> {
  const existing = await db.selectFrom('service_secrets').select('value').where('name', '=', SIGNING_KEY).executeTakeFirst();
  if (existing) return Buffer.from(existing.value, 'base64');
  await db
    .insertInto('service_secrets')
    .values({ name: SIGNING_KEY, value: randomBytes(32).toString('base64'), created_at: now.toISOString() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return loadOrCreateSigningKey(db, now);
}

/**
 * RFC 7523 client authentication: the assertion must be signed by a certificate registered
 * on the application, unrevoked and within its validity, addressed to this token endpoint,
 * unexpired, and never seen before (its jti is kept until it expires).
 */
export async function exchangeAssertion(db: Db, clientId: string, assertion: string, audience: string | string[], now: Date): Promise<TokenResponse> {
  const thumbprint = assertionThumbprint(assertion);
  const cert = await db.selectFrom('certificates').selectAll().where('application_id', '=', clientId).where('thumbprint', '=', thumbprint).executeTakeFirst();
  if (!cert) throw new DriveseedError('UNAUTHORIZED', 'assertion signed by a certificate this application does not have');
  if (cert.revoked_at) throw new DriveseedError('UNAUTHORIZED', 'the certificate that signed the assertion is revoked');
  if (now.toISOString() > cert.not_after) throw new DriveseedError('UNAUTHORIZED', `the certificate expired on ${cert.not_after}`);
  if (now.toISOString() < cert.not_before) throw new DriveseedError('UNAUTHORIZED', `the certificate is not valid before ${cert.not_before}`);

  const publicKey = createPublicKey(new X509Certificate(cert.certificate_pem).publicKey.export({ type: 'spki', format: 'pem' }));
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, publicKey, {
      issuer: clientId,
      subject: clientId,
      audience,
      currentDate: now,
      maxTokenAge: MAX_ASSERTION_SECONDS,
      // Agents' clocks drift; Azure AD tolerates five minutes, two are enough here.
      clockTolerance: 120,
      requiredClaims: ['exp', 'iat', 'jti'],
    }));
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw new DriveseedError('UNAUTHORIZED', 'the client assertion has expired');
    if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'aud')
      throw new DriveseedError(
        'UNAUTHORIZED',
        'the client assertion is not valid: it is made out to another address than this token endpoint (a service known by a DNS name or behind a proxy is started with --public-url)',
      );
    throw new DriveseedError('UNAUTHORIZED', `the client assertion is not valid: ${(e as Error).message}`);
  }
  await rememberAssertion(db, payload.jti!, clientId, new Date(payload.exp! * 1000), now);

  const app = await db.selectFrom('applications').select('subscription_id').where('id', '=', clientId).executeTakeFirstOrThrow();
  const token = await new SignJWT({ sid: app.subscription_id, x5t: thumbprint })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(clientId)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(now.getTime() / 1000) + TOKEN_LIFETIME_SECONDS)
    .sign(await signingKey(db, now));
  return { access_token: token, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS };
}

function assertionThumbprint(assertion: string): string {
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw new DriveseedError('UNAUTHORIZED', 'the client assertion is not a JWT');
  }
  const x5t = header['x5t#S256'];
  if (typeof x5t !== 'string') throw new DriveseedError('UNAUTHORIZED', 'the client assertion has no x5t#S256 header naming its certificate');
  return Buffer.from(x5t, 'base64url').toString('hex');
}

async function rememberAssertion(db: Db, jti: string, applicationId: string, expires: Date, now: Date): Promise<void> {
  await db.deleteFrom('used_assertions').where('expires_at', '<', now.toISOString()).execute();
  const inserted = await db
    .insertInto('used_assertions')
    .values({ jti: `${applicationId}:${jti}`, application_id: applicationId, expires_at: expires.toISOString() })
    .onConflict((oc) => oc.column('jti').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) throw new DriveseedError('UNAUTHORIZED', 'the client assertion was used before (replay)');
}

interface VerifiedToken {
  claims: TokenClaims;
  /** The token's exp, in ms. */
  expiresAt: number;
}

/**
 * Tokens whose signature was checked, per database (whose key signed them). An agent sends
 * the same token for up to an hour, and checking its signature through WebCrypto each time
 * was the largest cost of a small authenticated call after the database. Tokens are not
 * revocable, so a checked one stays good until its exp, which is still checked every time.
 */
const verifiedTokens = new WeakMap<Db, Map<string, VerifiedToken>>();
const MAX_VERIFIED_TOKENS = 10_000;

export async function verifyBearerToken(db: Db, token: string, now: Date): Promise<TokenClaims> {
  const claims = await verifiedClaims(db, token, now);
  if (claims.thumbprint && (await revokedThumbprints(db)).has(claims.thumbprint))
    throw new DriveseedError(
      'UNAUTHORIZED',
      'the certificate this token was issued for is revoked (the server was taken over by another machine, or its owner revoked it)',
    );
  return claims;
}

async function verifiedClaims(db: Db, token: string, now: Date): Promise<TokenClaims> {
  let verified = verifiedTokens.get(db);
  if (!verified) verifiedTokens.set(db, (verified = new Map()));
  const known = verified.get(token);
  if (known) {
    if (now.getTime() < known.expiresAt) return known.claims;
    verified.delete(token);
  }
  const checked = await checkBearerToken(db, token, now);
  if (verified.size >= MAX_VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
  verified.set(token, checked);
  return checked.claims;
}

/**
 * Revoking a certificate also ends the tokens already issued for it: a lost server taken over
 * by a new machine must not go on acting for up to an hour on a token it still holds. The
 * revoked thumbprints are read at most every few seconds per database, not on every request.
 */
const REVOKED_REFRESH_MS = 2000;
const revokedCache = new WeakMap<Db, { at: number; thumbprints: Promise<Set<string>> }>();

function revokedThumbprints(db: Db): Promise<Set<string>> {
  const cached = revokedCache.get(db);
  if (cached && Date.now() - cached.at < REVOKED_REFRESH_MS) return cached.thumbprints;
  const thumbprints = db
    .selectFrom('certificates')
    .select('thumbprint')
    .where('revoked_at', 'is not', null)
    .execute()
    .then((rows) => new Set(rows.map((r) => r.thumbprint)));
  thumbprints.catch(() => revokedCache.delete(db));
  revokedCache.set(db, { at: Date.now(), thumbprints });
  return thumbprints;
}

/** Called on revocation: this instance stops honouring the certificate's tokens at once, others within seconds. */
export function forgetRevokedCache(db: Db): void {
  revokedCache.delete(db);
}

async function checkBearerToken(db: Db, token: string, now: Date): Promise<VerifiedToken> {
  try {
    const { payload } = await jwtVerify(token, await signingKey(db, now), { issuer: ISSUER, currentDate: now, algorithms: ['HS256'] });
    if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number')
      throw new Error('token without subscription or expiry');
    const thumbprint = typeof payload.x5t === 'string' ? payload.x5t : undefined;
    return { claims: { subscriptionId: payload.sid, applicationId: payload.sub, ...(thumbprint ? { thumbprint } : {}) }, expiresAt: payload.exp * 1000 };
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw new DriveseedError('UNAUTHORIZED', 'the access token has expired; get a new one');
    throw new DriveseedError('UNAUTHORIZED', 'the access token is not valid');
  }
}
