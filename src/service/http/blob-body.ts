import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ByteBudget } from './byte-budget.js';
import { DriveseedError } from '../../core/errors.js';

/**
 * A blob upload as it came off the socket: its chunks, never joined into one buffer. Joining a
 * 16 MiB pack cost a copy and a large-object garbage collection per pack (a fifth of the
 * service's CPU in an online backup, measured); a BlobStore takes the parts as they are, and
 * the route checks them against the blob's name (repo/ids.ts, contentMatchesId).
 */
export interface ReceivedBlob {
  parts: Buffer[];
  length: number;
}

export function isReceivedBlob(body: unknown): body is ReceivedBlob {
  return typeof body === 'object' && body !== null && Array.isArray((body as ReceivedBlob).parts) && typeof (body as ReceivedBlob).length === 'number';
}

export interface BlobBodyLimits {
  /** The largest blob accepted. */
  maxBytes: number;
  /** Shared by every upload of the service: the body bytes held in memory at once. */
  budget: ByteBudget;
}

/**
 * Makes `application/octet-stream` bodies ReceivedBlobs, in this scope only: a route outside it
 * answers such a body with 415 and never buffers it. Before a body's first byte is read, a
 * declared length over the limit gets 413, and the body waits for room in the budget (a
 * streamed one, of unknown length, reserves the limit); the room is given back when the
 * response closes, sent or cut off. Hooks the scope added before this run first: that is where
 * callers are authenticated, so a stranger's body is never read at all.
 */
export function acceptBlobBodies(scope: FastifyInstance, limits: BlobBodyLimits): void {
  scope.addHook('preParsing', async (request, reply, payload) => {
    if (isBlobUpload(request)) await reserveRoom(request, reply, limits);
    return payload;
  });
  scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => {
    receive(payload as IncomingMessage, limits.maxBytes).then(
      (blob) => done(null, blob),
      (e: Error) => done(e, undefined),
    );
  });
}

function isBlobUpload(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/octet-stream';
}

const tooLarge = (maxBytes: number) => new DriveseedError('TOO_LARGE', `a blob may have at most ${maxBytes} bytes`, { field: 'body' });

async function reserveRoom(request: FastifyRequest, reply: FastifyReply, limits: BlobBodyLimits): Promise<void> {
  const declared = request.headers['content-length'];
  const length = declared === undefined ? limits.maxBytes : Number(declared);
  if (length > limits.maxBytes) throw tooLarge(limits.maxBytes);
  // Listen first: a client that gives up while its body waits must not keep the room it gets later.
  let release: (() => void) | undefined;
  let closed = false;
  reply.raw.once('close', () => {
    closed = true;
    release?.();
  });
  release = await limits.budget.reserve(length);
  if (closed) release();
}

function receive(payload: IncomingMessage, maxBytes: number): Promise<ReceivedBlob> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    payload.on('data', (chunk: Buffer) => {
      if (length > maxBytes) return; // refused already: the rest is read and dropped
      length += chunk.length;
      if (length > maxBytes) {
        parts.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      parts.push(chunk);
    });
    payload.on('end', () => length <= maxBytes && resolve({ parts, length }));
    payload.on('error', reject);
  });
}
