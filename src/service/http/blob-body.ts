import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UploadBudget, UploadLease } from './upload-budget.js';
import { BODY_IDLE_MS, BODY_READ_MS, bodyTimers, isOctetStream, type BodyTimeouts } from './body-timeouts.js';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';

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
  /** Shared by every upload of the service: the body bytes held in memory at once, and each caller's share. */
  budget: UploadBudget;
  /** Whose share an upload is read under (its subscription); asked after the scope's earlier hooks authenticated it. */
  callerOf: (request: FastifyRequest) => string;
  timeouts?: BodyTimeouts;
}

/**
 * Makes `application/octet-stream` bodies ReceivedBlobs, in this scope only: a route outside it
 * answers such a body with 415 and never buffers it. Before a body's first byte is read, a
 * declared length over the limit gets 413, and the upload waits for one of its caller's slots;
 * then every chunk is taken from the budget as it arrives, and the body stops being read
 * while its chunk waits for room. A body that stalls (idle) or takes too long gets 408. The
 * room and the slot are given back when the response closes, sent or cut off. Hooks the scope
 * added before this run first: that is where callers are authenticated, so a stranger's body is
 * never read at all.
 */
export function acceptBlobBodies(scope: FastifyInstance, limits: BlobBodyLimits): void {
  // The parser is given the request only: its lease and reply are kept from the hook.
  const uploads = new WeakMap<FastifyRequest, { lease: UploadLease; reply: FastifyReply }>();
  scope.addHook('preParsing', async (request, reply, payload) => {
    if (isOctetStream(request)) uploads.set(request, { lease: await openUpload(request, reply, limits), reply });
    return payload;
  });
  scope.addContentTypeParser('application/octet-stream', (request, payload, done) => {
    const { lease, reply } = uploads.get(request)!;
    receive(payload as IncomingMessage, lease, limits).then(
      (blob) => done(null, blob),
      (e: Error) => {
        // A body that timed out is not read further: the connection ends with the answer.
        if (isDriveseedError(e, 'TIMEOUT')) reply.header('connection', 'close');
        done(e, undefined);
      },
    );
  });
}

const tooLarge = (maxBytes: number) => new DriveseedError('TOO_LARGE', `a blob may have at most ${maxBytes} bytes`, { field: 'body' });

async function openUpload(request: FastifyRequest, reply: FastifyReply, limits: BlobBodyLimits): Promise<UploadLease> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBytes) throw tooLarge(limits.maxBytes);
  // Listen first: a client that gives up while its upload waits must not keep the slot it gets later.
  let lease: UploadLease | undefined;
  let closed = false;
  reply.raw.once('close', () => {
    closed = true;
    lease?.release();
  });
  lease = await limits.budget.open(limits.callerOf(request));
  if (closed) lease.release();
  return lease;
}

function receive(payload: IncomingMessage, lease: UploadLease, limits: BlobBodyLimits): Promise<ReceivedBlob> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    let failed = false;
    // Refused: what was held goes back at once. The rest of a body too large is read and
    // dropped, so its client reads the answer; one that timed out is not read any more.
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      timers.stop();
      parts.length = 0;
      lease.release();
      if (isDriveseedError(e, 'TIMEOUT')) payload.pause();
      else payload.resume();
      reject(e);
    };
    const timers = bodyTimers(limits.timeouts?.idleMs ?? BODY_IDLE_MS, limits.timeouts?.readMs ?? BODY_READ_MS, fail);
    timers.reading();
    const keep = (chunk: Buffer) => {
      parts.push(chunk);
      timers.reading();
      payload.resume();
    };
    payload.on('data', (chunk: Buffer) => {
      if (failed) return;
      length += chunk.length;
      if (length > limits.maxBytes) return fail(tooLarge(limits.maxBytes));
      timers.reading();
      if (lease.tryTake(chunk.length)) return void parts.push(chunk);
      // No room: stop reading (TCP holds the client back) and take the chunk in when there is.
      payload.pause();
      timers.waiting();
      void lease.take(chunk.length).then(() => !failed && keep(chunk));
    });
    let ended = false;
    payload.on('end', () => {
      if (failed) return;
      ended = true;
      timers.stop();
      resolve({ parts, length });
    });
    payload.on('error', (e) => fail(e));
    // A client gone mid-body: its bytes are dropped and its handler never waits on it.
    payload.on('close', () => ended || fail(new DriveseedError('USAGE', 'the upload was cut off before its end', { field: 'body' })));
  });
}
