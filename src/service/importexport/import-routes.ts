import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routes } from '../../api/routes.js';
import type { Db } from '../db/open-database.js';
import { requireSubscription, type Caller } from '../http/auth.js';
import { serve } from '../http/serve.js';
import { cancelImportJob, createImportJob, driveLogs, getImportJob, listImportJobs, setShipping, type ImportJobView } from './import-jobs.js';

export interface ImportContext {
  db: Db;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  /** Where customers send their drives (the operator sets it; shown after diskprep). */
  shippingAddress: string;
}

/** The customer's side of the import service: create jobs, enter shipping, follow states, read logs. */
export function registerImportRoutes(app: FastifyInstance, ctx: ImportContext): void {
  const scoped = async (request: FastifyRequest, subscriptionId: string) => requireSubscription(await ctx.caller(request), subscriptionId);
  const withAddress = (job: ImportJobView) => ({ ...job, shippingAddress: ctx.shippingAddress });

  serve(app, routes.createImportJob, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return withAddress(await createImportJob(ctx.db, request.params.subscriptionId, request.body, ctx.now()));
  });

  serve(app, routes.listImportJobs, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return { jobs: (await listImportJobs(ctx.db, request.params.subscriptionId)).map(withAddress) };
  });

  serve(app, routes.getImportJob, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return withAddress(await getImportJob(ctx.db, request.params.subscriptionId, request.params.jobName));
  });

  serve(app, routes.setShipping, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return withAddress(await setShipping(ctx.db, request.params.subscriptionId, request.params.jobName, request.body, ctx.now()));
  });

  serve(app, routes.cancelImportJob, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return withAddress(await cancelImportJob(ctx.db, request.params.subscriptionId, request.params.jobName, ctx.now()));
  });

  serve(app, routes.driveLogs, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return driveLogs(ctx.db, request.params.subscriptionId, request.params.jobName, request.params.driveId);
  });
}
