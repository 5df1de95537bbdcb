import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertValidBlobPrefix, readStreamsOf, type BlobStore } from '../../core/storage/blob-store.js';
import { PrefixStore } from '../../core/storage/prefix.js';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import { contentMatchesId } from '../../core/repo/ids.js';
import { expectedContentHash } from '../../core/repo/layout.js';
import type { ServerParams } from '../../api/schemas.js';
import { routes } from '../../api/routes.js';
import { DEFAULT_GRANT_SECONDS, grantBlobAccess } from './blob-grants.js';
import { copySeed } from './seed-copy.js';
import type { Db } from '../db/open-database.js';
import { requireOwner, requireSubscription, type Caller } from '../http/auth.js';
import { serve } from '../http/serve.js';
import { acceptBlobBodies, isReceivedBlob } from '../http/blob-body.js';
import type { BodyTimeouts } from '../http/body-timeouts.js';
import type { UploadBudget } from '../http/upload-budget.js';
import type { CallerSlots } from '../http/caller-slots.js';
import { ensureVault, finishJob, listServers, recordProgress, registerServer, serverFor, serverStatus, setPolicy, startJob } from './vaults.js';
import type { ServerTable } from '../db/schema.js';
import { recordHeartbeat } from './job-liveness.js';
import { settleWaitingJobs } from './waiting-jobs.js';

/** Packs are 16 MiB; room for larger ones from other writers. */
const MAX_BLOB_BYTES = 128 * 1024 * 1024;

export interface VaultContext {
  db: Db;
  blobs: BlobStore;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  /** Lifetime of the signed URLs agents get for direct pack transfer (default ten minutes). */
  blobGrantSeconds?: number;
  /** The body bytes of blob uploads held in memory at once, over all clients, and each subscription's share. */
  uploadBudget: UploadBudget;
  bodyTimeouts?: BodyTimeouts;
  /** Downloads each subscription may have open at once; more wait for one of its own to end. */
  downloadSlots: CallerSlots;
}

/** Each server's repository is a folder of the service's blob store; the service sees only ciphertext. */
export function repositoryStore(blobs: BlobStore, server: ServerTable): BlobStore {
  return new PrefixStore(blobs, `vaults/${server.vault_id}/servers/${server.id}`);
}

export function registerVaultRoutes(app: FastifyInstance, ctx: VaultContext): void {
  // Once per request: the blob routes look the server up before the body, and again in the handler.
  const servers = new WeakMap<FastifyRequest, Promise<ServerTable>>();
  const server = (request: FastifyRequest, params: ServerParams): Promise<ServerTable> => {
    let found = servers.get(request);
    if (!found) {
      found = (async () => {
        const caller = await ctx.caller(request);
        requireSubscription(caller, params.subscriptionId);
        return serverFor(ctx.db, caller, params.vaultName, params.serverId);
      })();
      servers.set(request, found);
    }
    return found;
  };

  serve(app, routes.ensureVault, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return ensureVault(ctx.db, request.params.subscriptionId, request.params.vaultName, ctx.now());
  });

  serve(app, routes.registerServer, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return registerServer(ctx.db, request.params.subscriptionId, request.params.vaultName, request.body.name, request.body.applicationId, ctx.now());
  });

  serve(app, routes.listServers, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return { servers: await listServers(ctx.db, request.params.subscriptionId, request.params.vaultName, request.query.name) };
  });

  serve(app, routes.setPolicy, async (request) => setPolicy(ctx.db, await server(request, request.params), request.body, ctx.now()));

  serve(app, routes.serverStatus, async (request) => serverStatus(ctx.db, await server(request, request.params)));

  serve(app, routes.startJob, async (request) => startJob(ctx.db, await server(request, request.params), request.body.kind, ctx.now()));

  serve(app, routes.finishJob, async (request) => finishJob(ctx.db, await server(request, request.params), request.params.jobId, request.body, ctx.now()));

  serve(app, routes.completeSeed, async (request) => {
    const target = await server(request, request.params);
    return copySeed(ctx.db, ctx.blobs, request.params.subscriptionId, request.body.importJob, repositoryStore(ctx.blobs, target));
  });

  serve(app, routes.heartbeat, async (request) => {
    await recordHeartbeat(ctx.db, await server(request, request.params), request.params.jobId, ctx.now());
  });

  serve(app, routes.settleWaitingJobs, async (request) => settleWaitingJobs(ctx.db, await server(request, request.params), request.body, ctx.now()));

  serve(app, routes.reportProgress, async (request) => {
    await recordProgress(ctx.db, await server(request, request.params), request.params.jobId, request.body, ctx.now());
  });

  serve(app, routes.listBlobs, async (request) => {
    const store = repositoryStore(ctx.blobs, await server(request, request.params));
    const prefix = request.query.prefix ?? '';
    // At the edge as well as in every store: `?prefix=../../../` reached other vaults and the host.
    assertValidBlobPrefix(prefix);
    const blobs = [];
    for await (const info of store.list(prefix)) blobs.push(info);
    return { blobs };
  });

  serve(app, routes.grantBlobAccess, async (request) => {
    const target = await server(request, request.params);
    return grantBlobAccess(ctx.db, repositoryStore(ctx.blobs, target), target, request.body, ctx.now(), ctx.blobGrantSeconds ?? DEFAULT_GRANT_SECONDS);
  });

  // Who may touch a blob is settled before a byte of an upload is read: a stranger's body is
  // never buffered, and the upload budget is spent on callers with rights only.
  app.register(async (scope) => {
    scope.addHook('preParsing', async (request, _reply, payload) => {
      await server(request, request.params as ServerParams);
      return payload;
    });
    acceptBlobBodies(scope, {
      maxBytes: MAX_BLOB_BYTES,
      budget: ctx.uploadBudget,
      // The hook above let only callers of this subscription through: uploads are shared out by subscription.
      callerOf: (request) => (request.params as ServerParams).subscriptionId,
      timeouts: ctx.bodyTimeouts,
    });

    serve(
      scope,
      routes.getBlob,
      async (request, reply) => {
        const store = repositoryStore(ctx.blobs, await server(request, request.params));
        const name = request.params['*'];
        const range = parseRange(request.headers.range);
        await holdDownloadSlot(ctx.downloadSlots, request.params.subscriptionId, reply);
        reply.status(range ? 206 : 200).type('application/octet-stream');
        // Streamed where the store can: a download then holds a few buffers, not the whole range.
        const streams = readStreamsOf(store);
        if (!streams) return reply.send(await withBlobErrors(name, () => store.get(name, range)));
        const reader = await withBlobErrors(name, () => streams.openRead(name, range));
        return reply.header('content-length', String(reader.length)).send(reader.stream);
      },
      { exposeHeadRoute: false },
    );

    serve(scope, routes.headBlob, async (request, reply) => {
      const store = repositoryStore(ctx.blobs, await server(request, request.params));
      const info = await withBlobErrors(request.params['*'], () => store.stat(request.params['*']));
      reply.header('x-blob-size', String(info.size));
    });

    serve(scope, routes.putBlob, async (request) => {
      const store = repositoryStore(ctx.blobs, await server(request, request.params));
      const name = request.params['*'];
      const body = request.body;
      if (!isReceivedBlob(body)) throw new DriveseedError('USAGE', 'send the blob as application/octet-stream', { field: 'body' });
      // Content-addressed files are checked on arrival: a damaged upload never becomes "acknowledged".
      const hashed = expectedContentHash(name);
      if (hashed && !contentMatchesId(body.parts, hashed)) throw new DriveseedError('USAGE', `${name}: content does not match its name`, { field: 'body' });
      await withBlobErrors(name, () => store.put(name, body.parts));
    });

    serve(scope, routes.deleteBlob, async (request) => {
      const store = repositoryStore(ctx.blobs, await server(request, request.params));
      await withBlobErrors(request.params['*'], () => store.delete(request.params['*']));
    });
  });
}

/**
 * A download holds a file and a buffer or two while its client reads, however slowly: one
 * subscription's stalled downloads must not add up to the service's memory. The slot is
 * freed when the response closes, sent or cut off.
 */
async function holdDownloadSlot(slots: CallerSlots, subscriptionId: string, reply: FastifyReply): Promise<void> {
  let free: (() => void) | undefined;
  let closed = false;
  reply.raw.once('close', () => {
    closed = true;
    free?.();
  });
  free = await slots.acquire(subscriptionId);
  if (closed) free();
}

function parseRange(header: string | undefined): { offset: number; length: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d+)-(\d+)$/.exec(header);
  if (!match) throw new DriveseedError('USAGE', 'only single byte ranges (bytes=a-b) are supported', { field: 'range' });
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) throw new DriveseedError('USAGE', 'empty byte range', { field: 'range' });
  return { offset: start, length: end - start + 1 };
}

/** A store's "not found" names its own location; the API's names only the blob. */
async function withBlobErrors<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isDriveseedError(e, 'NOT_FOUND')) throw new DriveseedError('NOT_FOUND', `no blob ${name}`, { cause: e });
    throw e;
  }
}
