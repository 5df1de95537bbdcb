import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { exchange } from '../../api/http-exchange.js';
import { acceptBlobBodies, isReceivedBlob } from './blob-body.js';
import { UploadBudget } from './upload-budget.js';
import { DriveseedError } from '../../core/errors.js';
import { httpStatusOf } from '../../api/wire-errors.js';

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
    acceptBlobBodies(app, { maxBytes: LIMIT, budget: new UploadBudget({ capacity: 10 * LIMIT }), callerOf: () => 'one' });
    app.setErrorHandler((error: Error, _request, reply) =>
      reply.status(error instanceof DriveseedError ? httpStatusOf(error.code) : 500).send({ message: error.message }),
    );
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

/** Polls until `condition` holds; fails the test after a few seconds instead of hanging it. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('blob bodies: a shared budget of memory', () => {
  const BODY = 40_000;
  let app: FastifyInstance;
  let url: string;
  const budget = new UploadBudget({ capacity: BODY * 1.5, perCaller: BODY * 1.5 });
  const entered: string[] = [];
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));

  before(async () => {
    app = Fastify();
    acceptBlobBodies(app, { maxBytes: LIMIT, budget, callerOf: () => 'one' });
    app.put('/blob/:name', async (request) => {
      const { name } = request.params as { name: string };
      entered.push(name);
      if (name === 'first') await gate; // the store is slow: the first body stays in memory
      return { length: (request.body as { length: number }).length };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/blob`;
  });
  after(() => app.close());

  it('a body that does not fit is read as far as there is room, then waits until an earlier response is sent, then goes through', async () => {
    const first = exchange(`${url}/first`, 'PUT', { 'content-type': 'application/octet-stream' }, [randomBytes(BODY)]);
    await waitFor(() => entered.length > 0, 'the first body reaches its handler');
    assert.equal(budget.inUse, BODY);
    const second = exchange(`${url}/second`, 'PUT', { 'content-type': 'application/octet-stream' }, [randomBytes(BODY)]);
    await waitFor(() => budget.waitingForRoom > 0, 'the second body waits for room');
    assert.deepEqual(entered, ['first'], 'the second body is not complete while the first holds the room');
    assert.ok(budget.inUse <= BODY * 1.5, `the budget holds (${budget.inUse} bytes in use)`);
    openGate();
    assert.equal((await first).status, 200);
    const answer = await second;
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body.toString()).length, BODY);
    assert.deepEqual(entered, ['first', 'second']);
    await waitFor(() => budget.inUse === 0, 'both responses give their room back');
    assert.equal(budget.waitingForRoom, 0);
  });

  it('a client that gives up gives its room back', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${url}/abandoned`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(BODY) } });
      req.on('error', () => resolve());
      req.write(randomBytes(BODY / 2), () => setTimeout(() => req.destroy(), 20));
      req.on('close', () => resolve());
      req.on('response', () => reject(new Error('a half-sent body got an answer')));
    });
    await waitFor(() => budget.inUse === 0, 'the abandoned upload gives its room back');
    assert.deepEqual(entered, ['first', 'second'], 'the abandoned body never reached its handler');
    const answer = await exchange(`${url}/after`, 'PUT', { 'content-type': 'application/octet-stream' }, [randomBytes(BODY)]);
    assert.equal(answer.status, 200);
  });
});
