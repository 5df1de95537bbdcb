import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { startLink, type Link } from './link-emulator.js';

/** A server that answers every request with as many bytes as its path asks for: `/1000`. */
async function startSizedServer(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end(Buffer.alloc(Number(request.url!.slice(1)), 7)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function linkTo(t: { after: (fn: () => Promise<void>) => void }, options: Omit<Parameters<typeof startLink>[0], 'target'>): Promise<Link> {
  const link = await startLink({ target: await startSizedServer(t), ...options });
  t.after(() => link.close());
  return link;
}

describe('link emulator', () => {
  it('counts the bytes each way exactly, the connections and the requests', async (t) => {
    const link = await linkTo(t, { latencyMs: 0 });
    const sent = [Buffer.alloc(5000, 1), Buffer.alloc(0), Buffer.alloc(70_000, 2)];
    let received = 0;
    for (const [i, body] of sent.entries()) {
      const answer = await fetch(`${link.url}/${1000 * (i + 1)}`, { method: 'POST', body });
      received += (await answer.arrayBuffer()).byteLength;
    }
    // A streamed body goes chunked: the request count must follow it too.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(300));
        controller.enqueue(new Uint8Array(40));
        controller.close();
      },
    });
    const streamed = await fetch(`${link.url}/10`, { method: 'PUT', body: stream, duplex: 'half' } as RequestInit);
    received += (await streamed.arrayBuffer()).byteLength;
    assert.equal(received, 6010);
    assert.equal(link.stats.requests, 4);
    assert.ok(link.stats.connections >= 1);
    // Headers count as well: at least the bodies, and not more than a kilobyte of headers each.
    assert.ok(link.stats.bytesUp >= 75_340 && link.stats.bytesUp < 75_340 + 4 * 1024, `up ${link.stats.bytesUp}`);
    assert.ok(link.stats.bytesDown >= 6010 && link.stats.bytesDown < 6010 + 4 * 1024, `down ${link.stats.bytesDown}`);
  });

  it('counts the bytes of a raw stream exactly', async (t) => {
    const link = await linkTo(t, { latencyMs: 0 });
    const request = Buffer.from('GET /2345 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    const socket = connect(Number(new URL(link.url).port), '127.0.0.1');
    socket.end(request);
    let down = 0;
    for await (const chunk of socket) down += (chunk as Buffer).length;
    assert.equal(link.stats.bytesUp, request.length);
    assert.equal(link.stats.bytesDown, down);
    assert.ok(down > 2345);
    assert.equal(link.stats.requests, 1);
    assert.equal(link.stats.connections, 1);
  });

  it('a request and its answer take at least two latencies', async (t) => {
    const link = await linkTo(t, { latencyMs: 60 });
    await (await fetch(`${link.url}/1`)).arrayBuffer(); // the connection is set up
    const started = performance.now();
    await (await fetch(`${link.url}/1`)).arrayBuffer();
    assert.ok(performance.now() - started >= 2 * 60 - 1, `round trip ${performance.now() - started} ms`);
  });

  it('N bytes at the cap take at least about N/cap, each way', async (t) => {
    const link = await linkTo(t, { latencyMs: 0, downBytesPerSecond: 1_000_000, upBytesPerSecond: 500_000 });
    let started = performance.now();
    await (await fetch(`${link.url}/400000`)).arrayBuffer();
    const down = performance.now() - started;
    assert.ok(down >= 0.95 * 400, `400 kB down at 1 MB/s took ${down} ms`);
    started = performance.now();
    await (await fetch(`${link.url}/0`, { method: 'POST', body: Buffer.alloc(200_000) })).arrayBuffer();
    const up = performance.now() - started;
    assert.ok(up >= 0.95 * 400, `200 kB up at 0.5 MB/s took ${up} ms`);
  });

  it('resetStats starts the counters again from zero', async (t) => {
    const link = await linkTo(t, { latencyMs: 0 });
    await (await fetch(`${link.url}/10`)).arrayBuffer();
    link.resetStats();
    assert.deepEqual(link.stats, { bytesUp: 0, bytesDown: 0, connections: 0, requests: 0 });
  });
});
