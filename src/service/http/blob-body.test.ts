import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { exchange } from '../../agent/http-exchange.js';
import { acceptBlobBodies, isReceivedBlob } from './blob-body.js';
import { HttpError } from './http-error.js';

const LIMIT = 100_000;

/** Sends a body in chunks without a length (Transfer-Encoding: chunked), as a client that streams does. */
function sendChunked(url: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('blob bodies: received in parts, bounded', () => {
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    app = Fastify();
    acceptBlobBodies(app, LIMIT);
    app.setErrorHandler((error: Error, _request, reply) => reply.status(error instanceof HttpError ? error.status : 500).send({ message: error.message }));
    app.put('/blob', async (request) => {
      const body = request.body;
      assert.ok(isReceivedBlob(body));
      const joined = Buffer.concat(body.parts);
      return { length: body.length, joinedLength: joined.length, sha256: createHash('sha256').update(joined).digest('hex') };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/blob`;
  });
  after(() => app.close());

  it('the parts add up to the body, byte for byte', async () => {
    const data = randomBytes(LIMIT);
    const answer = await exchange(url, 'PUT', { 'content-type': 'application/octet-stream' }, [data.subarray(0, 7), data.subarray(7)]);
    assert.equal(answer.status, 200);
    const got = JSON.parse(answer.body.toString());
    assert.equal(got.length, LIMIT);
    assert.equal(got.joinedLength, LIMIT);
    assert.equal(got.sha256, createHash('sha256').update(data).digest('hex'));
  });

  it('a declared length over the limit: 413 before a byte is read', async () => {
    const answer = await exchange(url, 'PUT', { 'content-type': 'application/octet-stream' }, [randomBytes(LIMIT + 1)]);
    assert.equal(answer.status, 413);
    assert.match(answer.body.toString(), /at most 100000 bytes/);
  });

  it('a streamed body that grows past the limit: 413, and the server goes on serving', async () => {
    const answer = await sendChunked(url, [randomBytes(60_000), randomBytes(60_000), randomBytes(60_000)]);
    assert.equal(answer.status, 413);
    assert.match(answer.body, /at most 100000 bytes/);
    const small = await sendChunked(url, [randomBytes(10), randomBytes(10)]);
    assert.equal(small.status, 200);
    assert.equal(JSON.parse(small.body).length, 20);
  });
});
