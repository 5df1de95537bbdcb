import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routes } from '../../api/routes.js';
import type { ServerParams } from '../../api/schemas.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import type { Db } from '../db/open-database.js';
import type { ServerTable } from '../db/schema.js';
import { requireSubscription, type Caller } from '../http/auth.js';
import { serve } from '../http/serve.js';
import { repositoryStore } from '../vault/vault-routes.js';
import { serverFor } from '../vault/vaults.js';
import {
  addExportPacks,
  cancelExportJob,
  createExportJob,
  exportFiles,
  getServerExportJob,
  listExportJobs,
  setExportShipping,
  type ExportJobView,
} from './export-jobs.js';

export interface ExportContext {
  db: Db;
  blobs: BlobStore;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  /** Where customers send their blank drives (the same address as for import jobs). */
  shippingAddress: string;
}

/**
 * The customer's side of export jobs (restore by drive). A job belongs to one server: the
 * server's own application (or the subscription's owner) makes and reads it, and the drive
 * keys it answers with are that customer's, to read the drives when they come back.
 */
export function registerExportRoutes(app: FastifyInstance, ctx: ExportContext): void {
  const server = async (request: FastifyRequest, params: ServerParams): Promise<ServerTable> => {
    const caller = await ctx.caller(request);
    requireSubscription(caller, params.subscriptionId);
    return serverFor(ctx.db, caller, params.vaultName, params.serverId);
  };
  const withAddress = (job: ExportJobView) => ({ ...job, shippingAddress: ctx.shippingAddress });

  serve(app, routes.createExportJob, async (request) => {
    const target = await server(request, request.params);
    return withAddress(await createExportJob(ctx.db, repositoryStore(ctx.blobs, target), target, request.body, ctx.now()));
  });

  serve(app, routes.addExportPacks, async (request) => {
    const target = await server(request, request.params);
    return withAddress(await addExportPacks(ctx.db, repositoryStore(ctx.blobs, target), target, request.params.jobName, request.body.packs));
  });

  serve(app, routes.getExportJob, async (request) =>
    withAddress(await getServerExportJob(ctx.db, await server(request, request.params), request.params.jobName)),
  );

  serve(app, routes.exportFiles, async (request) => {
    const job = await getServerExportJob(ctx.db, await server(request, request.params), request.params.jobName);
    return { files: await exportFiles(ctx.db, job.id) };
  });

  serve(app, routes.setExportShipping, async (request) =>
    withAddress(await setExportShipping(ctx.db, await server(request, request.params), request.params.jobName, request.body, ctx.now())),
  );

  serve(app, routes.cancelExportJob, async (request) =>
    withAddress(await cancelExportJob(ctx.db, await server(request, request.params), request.params.jobName, ctx.now())),
  );

  serve(app, routes.listExportJobs, async (request) => {
    requireSubscription(await ctx.caller(request), request.params.subscriptionId);
    return { jobs: (await listExportJobs(ctx.db, request.params.subscriptionId)).map(withAddress) };
  });
}
