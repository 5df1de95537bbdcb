import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routes } from '../../api/routes.js';
import type { Db } from '../db/open-database.js';
import { requireSubscription, type Caller } from '../http/auth.js';
import { serve } from '../http/serve.js';
import { assertValidBlobPrefix, type BlobStore } from '../../core/storage/blob-store.js';
import { DriveseedError } from '../../core/errors.js';
import { containerStore, ensureContainer, ensureStorageAccount, getStorageAccount, listStorageAccounts } from './storage-accounts.js';

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
  const scoped = async (request: FastifyRequest, subscriptionId: string) => requireSubscription(await ctx.caller(request), subscriptionId);

  serve(app, routes.listStorageAccounts, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return { accounts: await listStorageAccounts(ctx.db, request.params.subscriptionId) };
  });

  serve(app, routes.ensureStorageAccount, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return ensureStorageAccount(ctx.db, request.params.subscriptionId, request.params.account, ctx.now());
  });

  serve(app, routes.getStorageAccount, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return getStorageAccount(ctx.db, request.params.subscriptionId, request.params.account);
  });

  serve(app, routes.ensureContainer, async (request) => {
    await scoped(request, request.params.subscriptionId);
    return ensureContainer(ctx.db, request.params.subscriptionId, request.params.account, request.params.container, ctx.now());
  });

  // What a container holds, by name and size: diskprep --repair compares it with the staged
  // seed to know what an import did not deliver. Names are the repository's own (hashes), never contents.
  serve(app, routes.listContainerBlobs, async (request) => {
    const { subscriptionId, account, container } = request.params;
    await scoped(request, subscriptionId);
    const prefix = request.query.prefix ?? '';
    assertValidBlobPrefix(prefix);
    const view = await getStorageAccount(ctx.db, subscriptionId, account);
    if (!view.containers.some((c) => c.name === container)) throw new DriveseedError('NOT_FOUND', `no container ${container} in storage account ${account}`);
    const blobs = [];
    for await (const info of containerStore(ctx.blobs, account, container).list(prefix)) blobs.push({ name: info.name, size: info.size });
    return { blobs };
  });
}
