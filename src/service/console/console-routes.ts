import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BackupJobParams, BackupJobQuery, ConsoleBackupJob, ConsoleBackupJobList, DatacenterView, ErrorBody, Overview, Session, SignIn, SubscriptionParams } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import { requireOperator, requireOwner, type Caller } from '../http/auth.js';
import { DriveseedError } from '../../core/errors.js';
import { clearedSessionCookie, createSession, deleteSession, findSession, sessionCookie, sessionTokenOf } from '../identity/console-sessions.js';
import { listImportJobs } from '../importexport/import-jobs.js';
import { datacenterView, getBackupJob, listBackupJobs, overview } from './console-queries.js';
import { liveStreams, type LiveSource } from './live-events.js';
import { securityHeaders } from './static-console.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
/** The live stream watches the latest backup jobs; older ones do not change any more. */
const LIVE_JOBS = 50;

export interface ConsoleContext {
  db: Db;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  shippingAddress: string;
  livePollMs?: number;
}

/** What the web console needs beyond the agent's API: sign-in, overview, job lists, live events, the operator's view. */
export function registerConsoleRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const live = liveStreams(app, ctx.livePollMs);
  const secure = (request: FastifyRequest) => request.protocol === 'https';

  api.post('/v1/session', { schema: { body: SignIn, response: { 201: Session, ...errors } } }, async (request, reply) => {
    const { token, session } = await createSession(ctx.db, request.body.key, ctx.now());
    return reply.status(201).header('set-cookie', sessionCookie(token, secure(request))).send(session);
  });

  api.get('/v1/session', { schema: { response: { 200: Session, ...errors } } }, async (request) => {
    const token = sessionTokenOf(request.headers.cookie);
    if (!token) throw new DriveseedError('UNAUTHORIZED', 'not signed in');
    return findSession(ctx.db, token, ctx.now());
  });

  api.delete('/v1/session', { schema: { response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    // Through the caller check, so signing out needs the console header like any other change.
    await ctx.caller(request);
    const token = sessionTokenOf(request.headers.cookie);
    if (token) await deleteSession(ctx.db, token);
    return reply.status(204).header('set-cookie', clearedSessionCookie(secure(request))).send(null);
  });

  const sub = '/v1/subscriptions/:subscriptionId';
  api.get(`${sub}/overview`, { schema: { params: SubscriptionParams, response: { 200: Overview, ...errors } } }, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return overview(ctx.db, request.params.subscriptionId, ctx.now());
  });

  api.get(`${sub}/backup-jobs`, { schema: { params: SubscriptionParams, querystring: BackupJobQuery, response: { 200: ConsoleBackupJobList, ...errors } } }, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    const { state, serverId, limit } = request.query;
    return { jobs: await listBackupJobs(ctx.db, request.params.subscriptionId, { state, serverId, limit: limit ? Number(limit) : undefined }) };
  });

  api.get(`${sub}/backup-jobs/:jobId`, { schema: { params: BackupJobParams, response: { 200: ConsoleBackupJob, ...errors } } }, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return getBackupJob(ctx.db, request.params.subscriptionId, request.params.jobId);
  });

  api.get(`${sub}/events`, { schema: { params: SubscriptionParams, description: 'server-sent events: backup-job and import-job, each with the changed object' } }, async (request, reply) => {
    const subscriptionId = request.params.subscriptionId;
    requireOwner(await ctx.caller(request), subscriptionId);
    await live.open(request, reply, subscriptionSource(ctx, subscriptionId), securityHeaders());
  });

  api.get('/v1/datacenter', { schema: { response: { 200: DatacenterView, ...errors } } }, async (request) => {
    requireOperator(await ctx.caller(request));
    return datacenterView(ctx.db);
  });

  api.get('/v1/datacenter/events', { schema: { description: 'server-sent events: import-job, for every subscription' } }, async (request, reply) => {
    requireOperator(await ctx.caller(request));
    const source: LiveSource = { snapshot: async () => new Map((await datacenterView(ctx.db)).jobs.map((job) => [`import-job:${job.id}`, job])) };
    await live.open(request, reply, source, securityHeaders());
  });
}

function subscriptionSource(ctx: ConsoleContext, subscriptionId: string): LiveSource {
  return {
    async snapshot() {
      const watched = new Map<string, unknown>();
      for (const job of await listBackupJobs(ctx.db, subscriptionId, { limit: LIVE_JOBS })) watched.set(`backup-job:${job.id}`, job);
      for (const job of await listImportJobs(ctx.db, subscriptionId)) watched.set(`import-job:${job.id}`, { ...job, shippingAddress: ctx.shippingAddress });
      return watched;
    },
  };
}
