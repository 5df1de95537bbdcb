import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routes } from '../../api/routes.js';
import type { Db } from '../db/open-database.js';
import { requireOwner, type Caller } from '../http/auth.js';
import { serve } from '../http/serve.js';
import { listAlerts } from './alerts.js';
import { createAlertTarget, deleteAlertTarget, listAlertTargets, type TargetRules } from './alert-targets.js';

export interface AlertContext {
  db: Db;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  rules: TargetRules;
}

/** The owner's alerts and where they go. */
export function registerAlertRoutes(app: FastifyInstance, ctx: AlertContext): void {
  serve(app, routes.listAlerts, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return { alerts: await listAlerts(ctx.db, request.params.subscriptionId, request.query.state) };
  });

  serve(app, routes.createAlertTarget, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return createAlertTarget(ctx.db, request.params.subscriptionId, request.body, ctx.rules, ctx.now());
  });

  serve(app, routes.listAlertTargets, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return { targets: await listAlertTargets(ctx.db, request.params.subscriptionId) };
  });

  serve(app, routes.deleteAlertTarget, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    await deleteAlertTarget(ctx.db, request.params.subscriptionId, request.params.targetId);
  });
}
