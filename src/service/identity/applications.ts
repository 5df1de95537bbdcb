import { randomUUID, X509Certificate } from 'node:crypto';
import type { Application, Certificate } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import type { CertificateTable } from '../db/schema.js';
import { DriveseedError } from '../../core/errors.js';
import { forgetRevokedCache } from './tokens.js';

/** The certificate and its thumbprint: the SHA-256 of its DER, in hex (the JOSE x5t#S256 value, hex-encoded). */
export function parseCertificate(pem: string): { cert: X509Certificate; thumbprint: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new DriveseedError('USAGE', 'certificate is not a valid PEM X.509 certificate', { field: 'certificate' });
  }
  return { cert, thumbprint: cert.fingerprint256.replaceAll(':', '').toLowerCase() };
}

export async function createApplication(db: Db, subscriptionId: string, name: string, pem: string, now: Date): Promise<Application> {
  const existing = await db.selectFrom('applications').select('id').where('subscription_id', '=', subscriptionId).where('name', '=', name).executeTakeFirst();
  if (existing) throw new DriveseedError('CONFLICT', `application ${name} exists already (id ${existing.id})`, { field: 'name' });
  const { cert, thumbprint } = parseCertificate(pem);
  const id = randomUUID();
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('applications').values({ id, subscription_id: subscriptionId, name, created_at: now.toISOString() }).execute();
    await tx
      .insertInto('certificates')
      .values(certificateRow(id, subscriptionId, pem, cert, thumbprint, now))
      .execute();
  });
  return getApplication(db, subscriptionId, id);
}

export async function addCertificate(db: Db, subscriptionId: string, applicationId: string, pem: string, now: Date): Promise<Certificate> {
  await getApplication(db, subscriptionId, applicationId);
  const { cert, thumbprint } = parseCertificate(pem);
  const existing = await db
    .selectFrom('certificates')
    .select('thumbprint')
    .where('application_id', '=', applicationId)
    .where('thumbprint', '=', thumbprint)
    .executeTakeFirst();
  if (!existing)
    await db
      .insertInto('certificates')
      .values(certificateRow(applicationId, subscriptionId, pem, cert, thumbprint, now))
      .execute();
  const row = await db
    .selectFrom('certificates')
    .selectAll()
    .where('application_id', '=', applicationId)
    .where('thumbprint', '=', thumbprint)
    .executeTakeFirstOrThrow();
  return toCertificate(row);
}

export async function revokeCertificate(db: Db, subscriptionId: string, applicationId: string, thumbprint: string, now: Date): Promise<void> {
  const result = await db
    .updateTable('certificates')
    .set({ revoked_at: now.toISOString() })
    .where('subscription_id', '=', subscriptionId)
    .where('application_id', '=', applicationId)
    .where('thumbprint', '=', thumbprint)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new DriveseedError('NOT_FOUND', `no certificate ${thumbprint} on application ${applicationId}`);
  forgetRevokedCache(db);
}

export async function getApplication(db: Db, subscriptionId: string, applicationId: string): Promise<Application> {
  const app = await db.selectFrom('applications').selectAll().where('subscription_id', '=', subscriptionId).where('id', '=', applicationId).executeTakeFirst();
  if (!app) throw new DriveseedError('NOT_FOUND', `no application ${applicationId} in this subscription`);
  const certs = await db.selectFrom('certificates').selectAll().where('application_id', '=', app.id).orderBy('created_at').execute();
  return { id: app.id, subscriptionId: app.subscription_id, name: app.name, createdAt: app.created_at, certificates: certs.map(toCertificate) };
}

export async function listApplications(db: Db, subscriptionId: string, name?: string): Promise<Application[]> {
  let query = db.selectFrom('applications').select('id').where('subscription_id', '=', subscriptionId);
  if (name) query = query.where('name', '=', name);
  const rows = await query.orderBy('created_at').execute();
  return Promise.all(rows.map((r) => getApplication(db, subscriptionId, r.id)));
}

function certificateRow(applicationId: string, subscriptionId: string, pem: string, cert: X509Certificate, thumbprint: string, now: Date): CertificateTable {
  return {
    thumbprint,
    application_id: applicationId,
    subscription_id: subscriptionId,
    certificate_pem: pem,
    not_before: new Date(cert.validFrom).toISOString(),
    not_after: new Date(cert.validTo).toISOString(),
    revoked_at: null,
    created_at: now.toISOString(),
  };
}

function toCertificate(row: CertificateTable): Certificate {
  return { thumbprint: row.thumbprint, notBefore: row.not_before, notAfter: row.not_after, revoked: row.revoked_at !== null };
}
