import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Owner keys are 32 random bytes. */
export function newOwnerKey(): string {
  return `dsok_${randomBytes(32).toString('base64url')}`;
}

/** What the database keeps of a key or token: its SHA-256. They are random, not guessable, so no slow hash is needed. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
