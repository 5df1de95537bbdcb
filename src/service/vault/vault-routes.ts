import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { readStreamsOf, type BlobStore } from '../../core/storage/blob-store.js';
import { PrefixStore } from '../../core/storage/prefix.js';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import { contentMatchesId } from '../../core/repo/ids.js';
import { expectedContentHash } from '../../core/repo/layout.js';
import { BlobGrantRequest, BlobGrants, CompleteSeed, SeedCopy } from '../../api/schemas.js';
import { DEFAULT_GRANT_SECONDS, grantBlobAccess } from './blob-grants.js';
import { copySeed } from './seed-copy.js';
import { BackupJob, BlobList, BlobListQuery, ErrorBody, FinishJob, JobParams, JobProgress, ProtectionPolicy, RegisterServer, Server, ServerParams, ServerStatus, StartJob, Vault, VaultParams } from '../../api/schemas.js';
import type { Db } from '../db/open-database.js';
import { requireOwner, requireSubscription, type Caller } from '../http/auth.js';
import { acceptBlobBodies, isReceivedBlob } from '../http/blob-body.js';
import type { ByteBudget } from '../http/byte-budget.js';
import { ensureVault, finishJob, recordProgress, registerServer, serverFor, serverStatus, setPolicy, startJob } from './vaults.js';
import type { ServerTable } from '../db/schema.js';

/** Packs are 16 MiB; room for larger ones from other writers. */
const MAX_BLOB_BYTES = 128 * 1024 * 1024;
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const BlobParams = Type.Object({ ...ServerParams.properties, '*': Type.String({ minLength: 1, maxLength: 1000 }) });

export interface VaultContext {
  db: Db;
  blobs: BlobStore;
  now: () => Date;
  caller: (request: FastifyRequest) => Promise<Caller>;
  /** Lifetime of the signed URLs agents get for direct pack transfer (default ten minutes). */
  blobGrantSeconds?: number;
  /** The body bytes of blob uploads held in memory at once, over all clients. */
  uploadBudget: ByteBudget;
}

type ServerPath = { vaultName: string; serverId: string; subscriptionId: string };

/** Each server's repository is a folder of the service's blob store; the service sees only ciphertext. */
export function repositoryStore(blobs: BlobStore, server: ServerTable): BlobStore {
  return new PrefixStore(blobs, `vaults/${server.vault_id}/servers/${server.id}`);
}

export function registerVaultRoutes(app: FastifyInstance, ctx: VaultContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/v1/subscriptions/:subscriptionId/vaults/:vaultName';
  // Once per request: the blob routes look the server up before the body, and again in the handler.
  const servers = new WeakMap<FastifyRequest, Promise<ServerTable>>();
  const server = (request: FastifyRequest, params: ServerPath): Promise<ServerTable> => {
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

  api.put(base, { schema: { params: VaultParams, response: { 200: Vault, ...errors } } }, async (request) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    return ensureVault(ctx.db, request.params.subscriptionId, request.params.vaultName, ctx.now());
  });

  api.post(`${base}/servers`, { schema: { params: VaultParams, body: RegisterServer, response: { 201: Server, ...errors } } }, async (request, reply) => {
    requireOwner(await ctx.caller(request), request.params.subscriptionId);
    const created = await registerServer(ctx.db, request.params.subscriptionId, request.params.vaultName, request.body.name, request.body.applicationId, ctx.now());
    return reply.status(201).send(created);
  });

  api.put(`${base}/servers/:serverId/policy`, { schema: { params: ServerParams, body: ProtectionPolicy, response: { 200: Server, ...errors } } }, async (request) =>
    setPolicy(ctx.db, await server(request, request.params), request.body),
  );

  api.get(`${base}/servers/:serverId`, { schema: { params: ServerParams, response: { 200: ServerStatus, ...errors } } }, async (request) =>
    serverStatus(ctx.db, await server(request, request.params)),
  );

  api.post(`${base}/servers/:serverId/jobs`, { schema: { params: ServerParams, body: StartJob, response: { 201: BackupJob, ...errors } } }, async (request, reply) => {
    const job = await startJob(ctx.db, await server(request, request.params), request.body.kind, ctx.now());
    return reply.status(201).send(job);
  });

  api.put(`${base}/servers/:serverId/jobs/:jobId`, { schema: { params: JobParams, body: FinishJob, response: { 200: BackupJob, ...errors } } }, async (request) =>
    finishJob(ctx.db, await server(request, request.params), request.params.jobId, request.body, ctx.now()),
  );

  api.post(`${base}/servers/:serverId/seed`, { schema: { params: ServerParams, body: CompleteSeed, response: { 200: SeedCopy, ...errors } } }, async (request) => {
    const target = await server(request, request.params);
    return copySeed(ctx.db, ctx.blobs, request.params.subscriptionId, request.body.importJob, repositoryStore(ctx.blobs, target));
  });

  api.post(`${base}/servers/:serverId/jobs/:jobId/progress`, { schema: { params: JobParams, body: JobProgress, response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    await recordProgress(ctx.db, await server(request, request.params), request.params.jobId, request.body, ctx.now());
    return reply.status(204).send(null);
  });

  api.get(`${base}/servers/:serverId/blobs`, { schema: { params: ServerParams, querystring: BlobListQuery, response: { 200: BlobList, ...errors } } }, async (request) => {
    const store = repositoryStore(ctx.blobs, await server(request, request.params));
    const blobs = [];
    for await (const info of store.list(request.query.prefix ?? '')) blobs.push(info);
    return { blobs };
  });

  api.post(`${base}/servers/:serverId/blob-grants`, { schema: { params: ServerParams, body: BlobGrantRequest, response: { 200: BlobGrants, ...errors } } }, async (request) => {
    const target = await server(request, request.params);
    return grantBlobAccess(ctx.db, repositoryStore(ctx.blobs, target), target, request.body, ctx.now(), ctx.blobGrantSeconds ?? DEFAULT_GRANT_SECONDS);
  });

  // Who may touch a blob is settled before a byte of an upload is read: a stranger's body is
  // never buffered, and the upload budget is spent on callers with rights only.
  app.register(async (scope) => {
    scope.addHook('preParsing', async (request, _reply, payload) => {
      await server(request, request.params as ServerPath);
      return payload;
    });
    acceptBlobBodies(scope, { maxBytes: MAX_BLOB_BYTES, budget: ctx.uploadBudget });
    const blobApi = scope.withTypeProvider<TypeBoxTypeProvider>();

    blobApi.get(`${base}/servers/:serverId/blobs/*`, { schema: { params: BlobParams }, exposeHeadRoute: false }, async (request, reply) => {
      const store = repositoryStore(ctx.blobs, await server(request, request.params));
      const name = request.params['*'];
      const range = parseRange(request.headers.range);
      reply.status(range ? 206 : 200).type('application/octet-stream');
      // Streamed where the store can: a download then holds a few buffers, not the whole range.
      const streams = readStreamsOf(store);
      if (!streams) return reply.send(await withBlobErrors(name, () => store.get(name, range)));
      const reader = await withBlobErrors(name, () => streams.openRead(name, range));
      return reply.header('content-length', String(reader.length)).send(reader.stream);
    });

    blobApi.head(`${base}/servers/:serverId/blobs/*`, { schema: { params: BlobParams } }, async (request, reply) => {
      const store = repositoryStore(ctx.blobs, await server(request, request.params));
      const info = await withBlobErrors(request.params['*'], () => store.stat(request.params['*']));
      return reply.header('x-blob-size', String(info.size)).status(200).send();
    });

    blobApi.put(`${base}/servers/:serverId/blobs/*`, { schema: { params: BlobParams } }, async (request, reply) => {
      const store = repositoryStore(ctx.blobs, await server(request, request.params));
      const name = request.params['*'];
      const body = request.body;
      if (!isReceivedBlob(body)) throw new DriveseedError('USAGE', 'send the blob as application/octet-stream', { field: 'body' });
      // Content-addressed files are checked on arrival: a damaged upload never becomes "acknowledged".
      const hashed = expectedContentHash(name);
      if (hashed && !contentMatchesId(body.parts, hashed)) throw new DriveseedError('USAGE', `${name}: content does not match its name`, { field: 'body' });
      await withBlobErrors(name, () => store.put(name, body.parts));
      return reply.status(204).send();
    });

    blobApi.delete(`${base}/servers/:serverId/blobs/*`, { schema: { params: BlobParams } }, async (request, reply) => {
      const store = repositoryStore(ctx.blobs, await server(request, request.params));
      await withBlobErrors(request.params['*'], () => store.delete(request.params['*']));
      return reply.status(204).send();
    });
  });
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
