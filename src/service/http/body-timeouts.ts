import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { DriveseedError } from '../../core/errors.js';

/*
 * A client may open a request and send its body a byte now and then, or not at all: each such
 * request holds a connection and, for a blob, memory. Fastify reads bodies without a deadline
 * (its requestTimeout is off, as it must be for uploads that wait for room in the budget), so
 * these limits are the service's own.
 */
export interface BodyTimeouts {
  /** The longest pause between two chunks of a body that is being read (default BODY_IDLE_MS). */
  idleMs?: number;
  /** The longest a body may take to read, not counting the time it waits for room (default BODY_READ_MS). */
  readMs?: number;
}

/** A client that sends nothing for this long while its body is read is gone or stalling: it gets 408. */
export const BODY_IDLE_MS = 30_000;
/** A 128 MiB blob at 600 kbit/s: generous for thin links, finite for a slow sender. */
export const BODY_READ_MS = 30 * 60_000;

/**
 * The idle and read timeouts of one body. Both stop while the body waits for room in the
 * budget: that wait is the service's doing, not the client's.
 */
export function bodyTimers(idleMs: number, readMs: number, expire: (e: DriveseedError) => void) {
  let idle: NodeJS.Timeout | undefined;
  let read: NodeJS.Timeout | undefined;
  let readLeft = readMs;
  let readSince = 0;
  const timeout = (what: string) => () => expire(new DriveseedError('TIMEOUT', `the upload ${what}; send the blob again`, { field: 'body' }));
  const pause = () => {
    clearTimeout(idle);
    if (read) {
      clearTimeout(read);
      read = undefined;
      readLeft -= Date.now() - readSince;
    }
  };
  return {
    reading() {
      clearTimeout(idle);
      idle = setTimeout(timeout(`sent nothing for ${Math.round(idleMs / 1000)} s`), idleMs);
      if (!read) {
        readSince = Date.now();
        read = setTimeout(timeout(`took longer than ${Math.round(readMs / 1000)} s`), Math.max(0, readLeft));
      }
    },
    waiting: pause,
    stop: pause,
  };
}

/**
 * The idle timeout for every other body (JSON, at most a megabyte): a client that stops
 * sending mid-body loses its connection, rather than keep it for as long as it likes. Blob
 * uploads have their own timers (blob-body.ts), which stop while a body waits for room.
 */
export function limitBodyPauses(app: FastifyInstance, timeouts: BodyTimeouts = {}): void {
  const idleMs = timeouts.idleMs ?? BODY_IDLE_MS;
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (!hasBody(request) || isOctetStream(request)) return payload;
    // The parser reads what passes through; watching the request itself would take its bytes.
    const raw = payload as IncomingMessage;
    const timers = bodyTimers(idleMs, timeouts.readMs ?? BODY_READ_MS, (e) => raw.destroy(e));
    const watched = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        timers.reading();
        done(null, chunk);
      },
      flush(done) {
        timers.stop();
        done();
      },
    });
    raw.once('close', () => timers.stop());
    raw.once('error', (e) => watched.destroy(e));
    timers.reading();
    return raw.pipe(watched);
  });
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

export function isOctetStream(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/octet-stream';
}
