import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BlobList, BlobListQuery, ContainerParams, ErrorBody, StorageAccount, StorageAccountList, StorageAccountParams, SubscriptionParams } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import { requireSubscription, type Caller } from '../http/auth.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { DriveseedError } from '../../core/errors.js';
import { containerStore, ensureContainer, ensureStorageAccount, getStorageAccount, listStorageAccounts } from './storage-accounts.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export interface AccountContext {
  db: Db;
  blobs: BlobStore;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
}

/**
 * Storage accounts and their containers. Any caller of the subscription may make them: an
 * agent set up for offline backup names the account and container its import lands in.
 */
export function registerAccountRoutes(app: FastifyInstance, ctx: AccountContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/v1/subscriptions/:subscriptionId/storage-accounts';
  const scoped = async (request: FastifyRequest, subscriptionId: string) => requireSubscription(await ctx.caller(request), subscriptionId);

  api.get(base, { schema: { params: SubscriptionParams, response: { 200: StorageAccountList, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return { accounts: await listStorageAccounts(ctx.db, request.params.subscriptionId) };
  });

  api.put(`${base}/:account`, { schema: { params: StorageAccountParams, response: { 200: StorageAccount, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return ensureStorageAccount(ctx.db, request.params.subscriptionId, request.params.account, ctx.now());
  });

  api.get(`${base}/:account`, { schema: { params: StorageAccountParams, response: { 200: StorageAccount, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return getStorageAccount(ctx.db, request.params.subscriptionId, request.params.account);
  });

  api.put(`${base}/:account/containers/:container`, { schema: { params: ContainerParams, response: { 200: StorageAccount, ...errors } } }, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return ensureContainer(ctx.db, request.params.subscriptionId, request.params.account, request.params.container, ctx.now());
  });

  // What a container holds, by name and size: diskprep --repair compares it with the staged
  // seed to know what an import did not deliver. Names are the repository's own (hashes), never contents.
  api.get(`${base}/:account/containers/:container/blobs`, { schema: { params: ContainerParams, querystring: BlobListQuery, response: { 200: BlobList, ...errors } } }, async (request) => {
    const { subscriptionId, account, container } = request.params;
    await scoped(request, subscriptionId);
    const view = await getStorageAccount(ctx.db, subscriptionId, account);
    if (!view.containers.some((c) => c.name === container)) throw new DriveseedError('NOT_FOUND', `no container ${container} in storage account ${account}`);
    const blobs = [];
    for await (const info of containerStore(ctx.blobs, account, container).list(request.query.prefix ?? '')) blobs.push({ name: info.name, size: info.size });
    return { blobs };
  });
}
