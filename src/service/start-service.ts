import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { DriveseedError } from '../core/errors.js';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type OpenedDatabase } from './db/open-database.js';
import { countSubscriptions, createSubscription } from './identity/subscriptions.js';
import { ensureOperatorKey } from './identity/console-sessions.js';
import { buildServer, DEFAULT_UPLOAD_MEMORY } from './server.js';
import { parsePublicUrl } from './http/token-audience.js';
import { UploadBudget } from './http/upload-budget.js';
import type { BodyTimeouts } from './http/body-timeouts.js';
import { startImportWorker } from './datacenter/import-queue.js';
import { DEFAULT_JOB_TIMEOUT_SECONDS, startJobSweeper } from './vault/job-liveness.js';
import { openStore } from '../core/storage/open-store.js';
import { DEFAULT_ALERT_INTERVAL_SECONDS, startAlertSweeper, type AlertSweeper } from './alerts/alert-sweeper.js';
import { smtpSender, type SmtpSettings } from './alerts/email-sender.js';

export interface StartOptions {
  dataDir: string;
  listen: string;
  db?: string;
  /** `azure:CONTAINER` (connection string from AZURE_STORAGE_CONNECTION_STRING), or a directory; default DATA/blobs. */
  blob?: string;
  shippingAddress?: string;
  logger?: boolean;
  now?: () => Date;
  /** Import queued drives in this instance (default on; several instances share the queue). */
  importWorker?: boolean;
  /** Lifetime of the signed URLs agents get for direct pack transfer. */
  blobGrantSeconds?: number;
  /** Bytes of upload bodies held in memory at once, over all clients. */
  uploadMemoryBytes?: number;
  /** Bytes of upload bodies one subscription may hold at once (default a quarter of the upload memory). */
  uploadShareBytes?: number;
  /** Uploads one subscription may have open at once. */
  uploadsPerSubscription?: number;
  bodyTimeouts?: BodyTimeouts;
  eventStreamsPerSubscription?: number;
  downloadsPerSubscription?: number;
  /** PEM files of the certificate (chain first) and key: serve HTTPS. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Addresses of TLS-terminating proxies in front, whose X-Forwarded-* headers are believed. */
  trustProxy?: string;
  /** A running backup job without a sign of life from its agent for this long is closed as Failed. */
  jobTimeoutSeconds?: number;
  /** The address agents reach the service at; token audiences are checked against it alone. */
  publicUrl?: string;
  /** The SMTP server alerts are mailed through; none: e-mail targets are refused. */
  smtp?: SmtpSettings;
  /** Let webhooks go to loopback, private and link-local addresses (a self-hosted service's in-house receivers; tests). */
  allowPrivateWebhooks?: boolean;
  /** How often alerts are looked for and sent (default a minute); 0: only by RunningService.alerts.runOnce(). */
  alertIntervalSeconds?: number;
  /** How late a scheduled backup may start before it is missed (default an hour). */
  missedBackupGraceMs?: number;
}

export interface RunningService {
  url: string;
  app: FastifyInstance;
  database: OpenedDatabase;
  /** Set on the first start only: the subscription made and its owner key. */
  bootstrap?: { subscriptionId: string; ownerKey: string };
  /** Set when the data centre's operator key was made by this start (also in bootstrap.json). */
  operatorKey?: string;
  /** The alert rounds: runOnce() raises, resolves and sends now. */
  alerts: AlertSweeper;
  stop(): Promise<void>;
}

/** `--blob azure:CONTAINER` → azure://CONTAINER; a path stays a path. */
export function blobLocation(blob: string | undefined, dataDir: string): string {
  if (!blob) return join(dataDir, 'blobs');
  if (blob.startsWith('azure:') && !blob.startsWith('azure://')) return `azure://${blob.slice('azure:'.length) || 'driveseed'}`;
  return blob;
}

export function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = at > 0 ? listen.slice(0, at).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(at >= 0 ? listen.slice(at + 1) : listen);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DriveseedError('USAGE', `not a HOST:PORT: ${listen}`, { field: 'listen' });
  return { host, port };
}

async function readBootstrap(dataDir: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** The certificate and key for HTTPS, both or neither, read before anything listens. */
async function readTls(options: StartOptions): Promise<{ cert: string; key: string } | undefined> {
  if (!options.tlsCertFile && !options.tlsKeyFile) return undefined;
  if (!options.tlsCertFile || !options.tlsKeyFile) throw new DriveseedError('USAGE', 'HTTPS needs both --tls-cert and --tls-key');
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new DriveseedError('USAGE', `cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const tls = { cert: await read(options.tlsCertFile, 'certificate'), key: await read(options.tlsKeyFile, 'key') };
  try {
    createSecureContext(tls);
  } catch (e) {
    throw new DriveseedError('USAGE', `the TLS certificate and key do not work together: ${(e as Error).message}`);
  }
  return tls;
}

/**
 * The data directory holds the database (the token-signing key, drive keys) and the bootstrap
 * file (owner and operator keys). One that other users can enter was made by hand or by an
 * older version: refused, with the command that fixes it, rather than silently changed.
 */
async function refuseOpenDataDir(dataDir: string): Promise<void> {
  const mode = (await stat(dataDir)).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new DriveseedError(
      'USAGE',
      `the data directory ${dataDir} is open to other users (mode ${mode.toString(8).padStart(4, '0')}) and holds the service's keys: run chmod 700 ${dataDir}`,
      { field: 'dataDir' },
    );
}

/** Opens the database, makes the first subscription if there is none, and listens. */
export async function startService(options: StartOptions): Promise<RunningService> {
  const publicUrl = options.publicUrl === undefined ? undefined : parsePublicUrl(options.publicUrl);
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await refuseOpenDataDir(dataDir);
  const database = await openDatabase(options.db ?? join(dataDir, 'driveseed.db'));
  const now = options.now ?? (() => new Date());
  let bootstrap: RunningService['bootstrap'];
  if ((await countSubscriptions(database.db)) === 0) {
    const created = await createSubscription(database.db, 'default', now());
    bootstrap = { subscriptionId: created.id, ownerKey: created.ownerKey };
  }
  // The operator key comes with the first start, or the first start of a data dir made before it existed.
  const operatorKey = await ensureOperatorKey(database.db, now());
  if (bootstrap || operatorKey) {
    const written = { ...(await readBootstrap(dataDir)), ...bootstrap, ...(operatorKey ? { operatorKey } : {}) };
    await writeFile(join(dataDir, 'bootstrap.json'), JSON.stringify(written, null, 2) + '\n', { mode: 0o600 });
  }
  // No retry layer here: the Azure SDK retries itself, and the agent retries whole calls.
  const blobs = await openStore(blobLocation(options.blob, dataDir));
  const app = await buildServer({
    database,
    blobs,
    now,
    logger: options.logger,
    shippingAddress: options.shippingAddress,
    blobGrantSeconds: options.blobGrantSeconds,
    uploadBudget: new UploadBudget({
      capacity: options.uploadMemoryBytes ?? DEFAULT_UPLOAD_MEMORY,
      perCaller: options.uploadShareBytes,
      streamsPerCaller: options.uploadsPerSubscription,
    }),
    bodyTimeouts: options.bodyTimeouts,
    eventStreamsPerCaller: options.eventStreamsPerSubscription,
    downloadsPerCaller: options.downloadsPerSubscription,
    tls: await readTls(options),
    trustProxy: options.trustProxy,
    publicUrl,
    alertRules: { email: Boolean(options.smtp), allowPrivateWebhooks: options.allowPrivateWebhooks ?? false },
  });
  const { host, port } = parseListen(options.listen);
  await app.listen({ host, port });
  const address = app.server.address() as { port: number };
  const url = `${options.tlsCertFile ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const worker = options.importWorker === false ? undefined : startImportWorker(database.db, blobs, { now, log: (message) => app.log.info(message) });
  const sweeper = startJobSweeper(database.db, {
    now,
    timeoutSeconds: options.jobTimeoutSeconds ?? DEFAULT_JOB_TIMEOUT_SECONDS,
    log: (message) => app.log.info(message),
  });
  const alerts: AlertSweeper = startAlertSweeper(database.db, {
    now,
    senders: {
      ...(options.smtp ? { email: await smtpSender({ consoleUrl: publicUrl ?? url, ...options.smtp }) } : {}),
      webhook: { allowPrivate: options.allowPrivateWebhooks ?? false },
    },
    intervalSeconds: options.alertIntervalSeconds ?? DEFAULT_ALERT_INTERVAL_SECONDS,
    missedGraceMs: options.missedBackupGraceMs,
    log: (message) => app.log.info(message),
  });
  return {
    url,
    app,
    database,
    bootstrap,
    ...(operatorKey ? { operatorKey } : {}),
    alerts,
    async stop() {
      sweeper.stop();
      await alerts.stop();
      await worker?.stop();
      await app.close();
      await database.close();
    },
  };
}
