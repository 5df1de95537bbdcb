import type { Generated } from 'kysely';

/**
 * The service's one relational schema, the same on SQLite and PostgreSQL. Timestamps are ISO
 * 8601 text in UTC and ids are text, so both engines store and compare them the same way.
 */
export interface SubscriptionTable {
  id: string;
  name: string;
  owner_key_hash: string;
  created_at: string;
}

export interface ApplicationTable {
  id: string;
  subscription_id: string;
  name: string;
  created_at: string;
}

export interface CertificateTable {
  thumbprint: string;
  application_id: string;
  subscription_id: string;
  certificate_pem: string;
  not_before: string;
  not_after: string;
  revoked_at: string | null;
  created_at: string;
}

/** Assertion ids seen until they expire: a replayed client assertion is refused. */
export interface UsedAssertionTable {
  jti: string;
  application_id: string;
  expires_at: string;
}

/** Secrets the service instances share (the token signing key), so any instance validates any token. */
export interface ServiceSecretTable {
  name: string;
  value: string;
  created_at: string;
}

export interface MigrationLogTable {
  id: Generated<number>;
}

export interface Database {
  subscriptions: SubscriptionTable;
  applications: ApplicationTable;
  certificates: CertificateTable;
  used_assertions: UsedAssertionTable;
  service_secrets: ServiceSecretTable;
}
