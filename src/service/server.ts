import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { routes } from '../api/routes.js';
import type { OpenedDatabase } from './db/open-database.js';
import { addCertificate, createApplication, getApplication, listApplications, revokeCertificate } from './identity/applications.js';
import { exchangeAssertion } from './identity/tokens.js';
import { authenticate, requireOwner, requireSubscription, type Caller } from './http/auth.js';
import { answerErrors } from './http/error-answers.js';
import { serve } from './http/serve.js';
import { tokenAudiences } from './http/token-audience.js';
import { registerVaultRoutes } from './vault/vault-routes.js';
import { registerImportRoutes } from './importexport/import-routes.js';
import { registerAccountRoutes } from './accounts/account-routes.js';
import type { BlobStore } from '../core/storage/blob-store.js';
import { registerConsoleRoutes } from './console/console-routes.js';
import { registerConsole, securityHeaders } from './console/static-console.js';
import { UploadBudget } from './http/upload-budget.js';
import { CallerSlots } from './http/caller-slots.js';
import { limitBodyPauses, type BodyTimeouts } from './http/body-timeouts.js';
import { registerAlertRoutes } from './alerts/alert-routes.js';
import type { TargetRules } from './alerts/alert-targets.js';

export const SERVICE_VERSION = '0.1.0';
/** Sixteen 16 MiB packs on their way in at once; more uploads wait, unread, for room. */
export const DEFAULT_UPLOAD_MEMORY = 256 * 1024 * 1024;
/** A restore reads a few packs at a time; 32 leaves room for several at once, and bounds a stalling tenant. */
export const DEFAULT_DOWNLOADS_PER_CALLER = 32;
const DEFAULT_SHIPPING_ADDRESS = 'driveseed data centre, Receiving, (set with service start --shipping-address)';

export interface ServiceOptions {
  database: OpenedDatabase;
  /** Where vault repositories live (a folder each). */
  blobs: BlobStore;
  /** The data centre's address, printed for customers who ship drives. */
  shippingAddress?: string;
  /** Injectable clock, so tests reach every deadline and expiry. */
  now?: () => Date;
  logger?: boolean;
  /** The built web console (default dist/web). */
  consoleDir?: string;
  /** How often live event streams look at the database. */
  livePollMs?: number;
  /** Lifetime of the signed URLs agents get for direct pack transfer (default ten minutes). */
  blobGrantSeconds?: number;
  /** Upload bodies held in memory at once, each subscription's share and slots (default DEFAULT_UPLOAD_MEMORY bytes). */
  uploadBudget?: UploadBudget;
  /** How long an upload body may stall, or take, while it is read (blob-body.ts has the defaults). */
  bodyTimeouts?: BodyTimeouts;
  /** Live event streams one subscription (or the operator) may hold open at once. */
  eventStreamsPerCaller?: number;
  /** Blob downloads one subscription may have open at once (default DEFAULT_DOWNLOADS_PER_CALLER). */
  downloadsPerCaller?: number;
  /** Serve HTTPS with this certificate (PEM, chain first) and key. */
  tls?: { cert: string; key: string };
  /**
   * Addresses of the TLS-terminating proxies in front (fastify's trustProxy: IPs or CIDRs,
   * comma-separated): their X-Forwarded-Proto and -Host say what address agents used.
   */
  trustProxy?: string;
  /** The address agents reach the service at (`--public-url`): token audiences are checked against it alone. */
  publicUrl?: string;
  /** Whether e-mail targets can be added (an SMTP server is set), and webhooks to private addresses. */
  alertRules?: TargetRules;
}

/** Builds the service's HTTP API. Stateless between requests: everything lasting is in the database. */
export async function buildServer(options: ServiceOptions): Promise<FastifyInstance> {
  const { db } = options.database;
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    ...(options.tls ? { https: options.tls } : {}),
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    logger: options.logger ? { level: 'info' } : false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    bodyLimit: 1024 * 1024,
  });

  await app.register(fastifySwagger, {
    openapi: { info: { title: 'driveseed service', version: SERVICE_VERSION } },
  });

  answerErrors(app);
  limitBodyPauses(app, options.bodyTimeouts);

  app.addHook('onSend', async (_request, reply) => {
    reply.headers(securityHeaders());
  });

  const caller = (request: FastifyRequest): Promise<Caller> => authenticate(db, request, now());

  serve(app, routes.health, async () => ({ status: 'ok' as const, database: options.database.kind, version: SERVICE_VERSION }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  serve(app, routes.token, async (request) => {
    const audiences = tokenAudiences(request, routes.token.path, { publicUrl: options.publicUrl, trustProxy: Boolean(options.trustProxy) });
    return exchangeAssertion(db, request.body.client_id, request.body.client_assertion, audiences, now());
  });

  serve(app, routes.whoami, async (request) => {
    const who = await caller(request);
    requireSubscription(who, request.params.subscriptionId);
    return { subscriptionId: who.subscriptionId, role: who.role, ...(who.applicationId ? { applicationId: who.applicationId } : {}) };
  });

  serve(app, routes.createApplication, async (request) => {
    requireOwner(await caller(request), request.params.subscriptionId);
    return createApplication(db, request.params.subscriptionId, request.body.name, request.body.certificate, now());
  });

  serve(app, routes.listApplications, async (request) => {
    requireOwner(await caller(request), request.params.subscriptionId);
    return { applications: await listApplications(db, request.params.subscriptionId, request.query.name) };
  });

  serve(app, routes.getApplication, async (request) => {
    const who = await caller(request);
    requireSubscription(who, request.params.subscriptionId);
    return getApplication(db, request.params.subscriptionId, request.params.applicationId);
  });

  serve(app, routes.uploadCertificate, async (request) => {
    requireOwner(await caller(request), request.params.subscriptionId);
    return addCertificate(db, request.params.subscriptionId, request.params.applicationId, request.body.certificate, now());
  });

  serve(app, routes.revokeCertificate, async (request) => {
    requireOwner(await caller(request), request.params.subscriptionId);
    await revokeCertificate(db, request.params.subscriptionId, request.params.applicationId, request.params.thumbprint, now());
  });

  const uploadBudget = options.uploadBudget ?? new UploadBudget({ capacity: DEFAULT_UPLOAD_MEMORY });
  registerVaultRoutes(app, {
    db,
    blobs: options.blobs,
    now,
    caller,
    blobGrantSeconds: options.blobGrantSeconds,
    uploadBudget,
    bodyTimeouts: options.bodyTimeouts,
    downloadSlots: new CallerSlots(options.downloadsPerCaller ?? DEFAULT_DOWNLOADS_PER_CALLER),
  });
  registerAccountRoutes(app, { db, blobs: options.blobs, now, caller });
  registerImportRoutes(app, { db, now, caller, shippingAddress: options.shippingAddress ?? DEFAULT_SHIPPING_ADDRESS });
  registerConsoleRoutes(app, {
    db,
    now,
    caller,
    shippingAddress: options.shippingAddress ?? DEFAULT_SHIPPING_ADDRESS,
    livePollMs: options.livePollMs,
    eventStreamsPerCaller: options.eventStreamsPerCaller,
  });
  registerAlertRoutes(app, { db, now, caller, rules: options.alertRules ?? { email: false, allowPrivateWebhooks: false } });
  await registerConsole(app, options.consoleDir);

  return app;
}
