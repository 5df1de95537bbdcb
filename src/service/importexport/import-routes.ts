import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateImportJob,
  DriveLogs,
  ErrorBody,
  ImportDriveParams,
  ImportJob,
  ImportJobList,
  ImportJobParams,
  ShippingDetailsBody,
  SubscriptionParams,
} from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import { requireSubscription, type Caller } from '../http/auth.js';
import { cancelImportJob, createImportJob, driveLogs, getImportJob, listImportJobs, setShipping, type ImportJobView } from './import-jobs.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export interface ImportContext {
  db: Db;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  /** Where customers send their drives (the operator sets it; shown after diskprep). */
  shippingAddress: string;
}

/** The customer's side of the import service: create jobs, enter shipping, follow states, read logs. */
export function registerImportRoutes(app: FastifyInstance, ctx: ImportContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/v1/subscriptions/:subscriptionId/import-jobs';
  const scoped = async (request: FastifyRequest, subscriptionId: string) => requireSubscription(await ctx.caller(request), subscriptionId);
  const withAddress = (job: ImportJobView) => ({ ...job, shippingAddress: ctx.shippingAddress });

  api.post(base, { schema: { params: SubscriptionParams, body: CreateImportJob, response: { 201: ImportJob, ...errors } } }, async (request, reply) => {
    await scoped(request, request.params.subscriptionId);
    return reply.status(201).send(withAddress(await createImportJob(ctx.db, request.params.subscriptionId, request.body, ctx.now())));
  });

  api.get(base, { schema: { params: SubscriptionParams, response: { 200: ImportJobList, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return { jobs: (await listImportJobs(ctx.db, request.params.subscriptionId)).map(withAddress) };
  });

  api.get(`${base}/:jobName`, { schema: { params: ImportJobParams, response: { 200: ImportJob, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return withAddress(await getImportJob(ctx.db, request.params.subscriptionId, request.params.jobName));
  });

  api.put(
    `${base}/:jobName/shipping`,
    { schema: { params: ImportJobParams, body: ShippingDetailsBody, response: { 200: ImportJob, ...errors } } },
    async (request) => {
      await scoped(request, request.params.subscriptionId);
      return withAddress(await setShipping(ctx.db, request.params.subscriptionId, request.params.jobName, request.body, ctx.now()));
    },
  );

  api.post(`${base}/:jobName/cancel`, { schema: { params: ImportJobParams, response: { 200: ImportJob, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return withAddress(await cancelImportJob(ctx.db, request.params.subscriptionId, request.params.jobName, ctx.now()));
  });

  api.get(`${base}/:jobName/drives/:driveId/logs`, { schema: { params: ImportDriveParams, response: { 200: DriveLogs, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return driveLogs(ctx.db, request.params.subscriptionId, request.params.jobName, request.params.driveId);
  });
}
