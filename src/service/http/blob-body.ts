import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error.js';

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

/** Registers the parser that turns `application/octet-stream` bodies into ReceivedBlobs. */
export function acceptBlobBodies(app: FastifyInstance, maxBytes: number): void {
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => {
    receive(payload as IncomingMessage, maxBytes).then(
      (blob) => done(null, blob),
      (e: Error) => done(e, undefined),
    );
  });
}

function receive(payload: IncomingMessage, maxBytes: number): Promise<ReceivedBlob> {
  const tooLarge = () => new HttpError(413, 'TOO_LARGE', `a blob may have at most ${maxBytes} bytes`, 'body');
  if (Number(payload.headers['content-length'] ?? 0) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    payload.on('data', (chunk: Buffer) => {
      if (length > maxBytes) return; // refused already: the rest is read and dropped
      length += chunk.length;
      if (length > maxBytes) {
        parts.length = 0;
        reject(tooLarge());
        return;
      }
      parts.push(chunk);
    });
    payload.on('end', () => length <= maxBytes && resolve({ parts, length }));
    payload.on('error', reject);
  });
}
