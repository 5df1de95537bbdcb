import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routes } from '../../api/routes.js';
import type { Db } from '../db/open-database.js';
import { requireOperator, requireOwner, type Caller } from '../http/auth.js';
import { serve } from '../http/serve.js';
import { DriveseedError } from '../../core/errors.js';
import { clearedSessionCookie, createSession, deleteSession, findSession, sessionCookie, sessionTokenOf } from '../identity/console-sessions.js';
import { listImportJobs } from '../importexport/import-jobs.js';
import { datacenterView, getBackupJob, listBackupJobs, overview } from './console-queries.js';
import { liveStreams, type LiveSource } from './live-events.js';
import { securityHeaders } from './static-console.js';

/** The live stream watches the latest backup jobs; older ones do not change any more. */
const LIVE_JOBS = 50;

export interface ConsoleContext {
  db: Db;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  shippingAddress: string;
  livePollMs?: number;
  /** Live event streams one subscription (or the operator) may hold open at once. */
  eventStreamsPerCaller?: number;
}

/** What the web console needs beyond the agent's API: sign-in, overview, job lists, live events, the operator's view. */
export function registerConsoleRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const live = liveStreams(app, ctx.livePollMs, ctx.eventStreamsPerCaller);
  const secure = (request: FastifyRequest) => request.protocol === 'https';

  serve(app, routes.signIn, async (request, reply) => {
    const { token, session } = await createSession(ctx.db, request.body.key, ctx.now());
    reply.header('set-cookie', sessionCookie(token, secure(request)));
    return session;
  });

  serve(app, routes.getSession, async (request) => {
    const token = sessionTokenOf(request.headers.cookie);
    if (!token) throw new DriveseedError('UNAUTHORIZED', 'not signed in');
    return findSession(ctx.db, token, ctx.now());
  });

  serve(app, routes.signOut, async (request, reply) => {
    // Through the caller check, so signing out needs the console header like any other change.
    await ctx.caller(request);
    const token = sessionTokenOf(request.headers.cookie);
    if (token) await deleteSession(ctx.db, token);
    reply.header('set-cookie', clearedSessionCookie(secure(request)));
  });

  serve(app, routes.overview, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return overview(ctx.db, request.params.subscriptionId, ctx.now());
  });

  serve(app, routes.listBackupJobs, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    const { state, serverId, limit } = request.query;
    return { jobs: await listBackupJobs(ctx.db, request.params.subscriptionId, { state, serverId, limit: limit ? Number(limit) : undefined }) };
  });

  serve(app, routes.getBackupJob, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return getBackupJob(ctx.db, request.params.subscriptionId, request.params.jobId);
  });

  serve(app, routes.subscriptionEvents, async (request, reply) => {
    const subscriptionId = request.params.subscriptionId;
    requireOwner(await ctx.caller(request), subscriptionId);
    await live.open(request, reply, subscriptionId, subscriptionSource(ctx, subscriptionId), securityHeaders());
  });

  serve(app, routes.datacenterView, async (request) => {
    requireOperator(await ctx.caller(request));
    return datacenterView(ctx.db);
  });

  serve(app, routes.datacenterEvents, async (request, reply) => {
    requireOperator(await ctx.caller(request));
    const source: LiveSource = { snapshot: async () => new Map((await datacenterView(ctx.db)).jobs.map((job) => [`import-job:${job.id}`, job])) };
    await live.open(request, reply, '(operator)', source, securityHeaders());
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
