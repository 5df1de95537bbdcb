import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { routePath, routes } from '../src/api/routes.js';
import { assertOneLine, startHostileSetting, type Tenant } from './hostile-service-harness.js';

interface Answer {
  status: number;
  body: string;
}

/**
 * An upload that sends `first` and then nothing more, until the test lets go of it: what a
 * hostile tenant does to hold the service's upload memory and slots. Without `declared` it is
 * chunked (no length), which on main reserved the 128 MiB limit up front.
 */
function stalledUpload(tenant: Tenant, name: string, first: Buffer, declared?: number) {
  const req: ClientRequest = request(tenant.blobUrl(name), {
    method: 'PUT',
    headers: { ...tenant.headers, 'content-type': 'application/octet-stream', ...(declared ? { 'content-length': String(declared) } : {}) },
  });
  const answer = new Promise<Answer>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
  });
  const sent = new Promise<void>((resolve) => req.write(first, () => resolve()));
  return { sent, answer, req };
}

async function upload(tenant: Tenant, name: string, body: Buffer, timeoutMs: number, abort?: AbortSignal): Promise<Answer & { ms: number }> {
  const started = performance.now();
  const answer = await fetch(tenant.blobUrl(name), {
    method: 'PUT',
    headers: { ...tenant.headers, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(body),
    signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(abort ? [abort] : [])]),
  }).then(
    async (r) => ({ status: r.status, body: await r.text() }),
    (e: Error) => ({ status: 0, body: `no answer: ${e.message}` }),
  );
  return { ...answer, ms: performance.now() - started };
}

/** Defaults of the service: 256 MiB of upload memory, a quarter of it per subscription, 16 uploads each. */
const SLOTS = 16;
const PER_SLOT = 4 * 1024 * 1024;

describe('hostile tenants: one cannot stall the uploads of another', () => {
  it('a victim uploads a 16 MiB pack while the attacker holds every upload slot and its whole share', async (t) => {
    const { victim, attacker, health, holdOpen } = await startHostileSetting(t);
    // Every slot the attacker is allowed, half of them chunked and half declaring 128 MiB,
    // each sending 4 MiB (64 MiB together, its share) and then nothing.
    const held = Array.from({ length: SLOTS }, (_, i) =>
      stalledUpload(attacker, `locks/hold-${i}`, randomBytes(PER_SLOT), i % 2 ? 128 * 1024 * 1024 : undefined),
    );
    holdOpen(() => held.forEach((h) => h.req.destroy()));
    // Their bytes are read (they fit the attacker's share); a service that left them unread would hold these sends back.
    await Promise.race([Promise.all(held.map((h) => h.sent)), sleep(3000)]);
    // One more of the attacker's, complete: it must wait for a slot of the attacker's own.
    const giveUp = new AbortController();
    holdOpen(() => giveUp.abort());
    const overSlots = upload(attacker, 'locks/one-too-many', Buffer.from('0123456789'), 30_000, giveUp.signal);
    await sleep(300);
    assert.equal(await health(), 200);

    const pack = randomBytes(16 * 1024 * 1024);
    // No time bound (how long 16 MiB takes depends on the machine's load): the victim's uploads
    // must finish while the attacker still holds everything, which on a service that shares
    // nothing they never do (main gave no answer at all). The time is reported, not asserted.
    const measured = await upload(victim, 'locks/victim-pack', pack, 60_000);
    t.diagnostic(`victim's 16 MiB upload while the attacker holds ${SLOTS} slots and 64 MiB: ${measured.ms.toFixed(0)} ms (${measured.status})`);
    assert.equal(measured.status, 204, measured.body);
    const small = await upload(victim, 'locks/victim-small', Buffer.from('ten bytes!'), 60_000);
    assert.equal(small.status, 204, small.body);
    const got = await fetch(victim.blobUrl('locks/victim-pack'), { headers: victim.headers });
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(pack), 'the victim’s bytes were stored whole');

    assert.equal(await Promise.race([overSlots.then(() => 'answered'), sleep(200).then(() => 'waiting')]), 'waiting', 'the attacker’s 17th upload waits');
    for (const h of held) h.req.destroy();
    const late = await overSlots;
    assert.equal(late.status, 204, 'once the attacker lets go, its own waiting upload goes through');
    assert.equal(await health(), 200);
  });

  it('a body that stalls gets a one-line 408 after the idle timeout, and gives its slot and memory back', async (t) => {
    const { victim, attacker, dataDir, health, holdOpen } = await startHostileSetting(t, { uploadsPerSubscription: 2, bodyTimeouts: { idleMs: 400 } });
    const stalled = [stalledUpload(attacker, 'locks/a', Buffer.from('x')), stalledUpload(attacker, 'locks/b', Buffer.from('y'), 1000)];
    holdOpen(() => stalled.forEach((s) => s.req.destroy()));
    const started = performance.now();
    // Bounded, so a service without timeouts fails here rather than hangs.
    const noAnswer = sleep(15_000).then(() => ({ status: 0, body: 'no answer within 15 s' }));
    const answers = await Promise.all(stalled.map((s) => Promise.race([s.answer, noAnswer])));
    const ms = performance.now() - started;
    t.diagnostic(`stalled uploads answered after ${ms.toFixed(0)} ms: ${answers.map((a) => a.status).join(', ')}`);
    for (const answer of answers) {
      assert.equal(answer.status, 408, answer.body);
      const body = JSON.parse(answer.body) as { error: string; message: string };
      assert.equal(body.error, 'TIMEOUT');
      assert.match(body.message, /sent nothing for/);
      assertOneLine(body.message, dataDir);
    }
    // Both slots are the attacker's again, and nothing it sent was kept.
    assert.equal((await upload(attacker, 'locks/after', Buffer.from('fine'), 2000)).status, 204);
    const listed = (await (await fetch(attacker.listUrl({ prefix: 'locks/' }), { headers: attacker.headers })).json()) as { blobs: { name: string }[] };
    assert.deepEqual(
      listed.blobs.map((b) => b.name),
      ['locks/after'],
    );
    assert.equal((await upload(victim, 'locks/v', Buffer.from('v'), 2000)).status, 204);
    assert.equal(await health(), 200);
  });

  it('a JSON body that stalls loses its connection after the idle timeout; the service goes on', async (t) => {
    const { url, health, holdOpen } = await startHostileSetting(t, { bodyTimeouts: { idleMs: 400 } });
    const started = performance.now();
    const ended = await new Promise<string>((resolve) => {
      const req = request(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '200' } });
      holdOpen(() => req.destroy());
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', () => resolve('cut off'));
      req.on('close', () => resolve('cut off'));
      req.write('{"grant_ty');
      setTimeout(() => resolve('still open after 15 s'), 15_000);
    });
    const ms = performance.now() - started;
    t.diagnostic(`a stalled JSON body: ${ended} after ${ms.toFixed(0)} ms`);
    assert.match(ended, /cut off|answered 408/);
    assert.equal(await health(), 200);
  });

  it("a tenant's stalled downloads hold its own download slots only: the victim's download is not held up", async (t) => {
    const { victim, attacker, health, holdOpen } = await startHostileSetting(t, { downloadsPerSubscription: 3 });
    // Larger than loopback's socket buffers can take in: a 4 MiB answer went wholly into them
    // on Node 24, so a client that stopped reading no longer held its download slot.
    const blob = randomBytes(24 * 1024 * 1024);
    for (const tenant of [victim, attacker]) assert.equal((await upload(tenant, 'locks/big', blob, 30_000)).status, 204);
    /** A download that takes its first bytes and then stops reading. */
    const stalledDownload = () => {
      const req = request(attacker.blobUrl('locks/big'), { headers: attacker.headers });
      const started = new Promise<boolean>((resolve) => {
        req.on('response', (res) => res.once('data', () => (res.pause(), resolve(true))));
        req.on('error', () => resolve(false));
      });
      req.end();
      holdOpen(() => req.destroy());
      return { req, started };
    };
    const stalled = [stalledDownload(), stalledDownload(), stalledDownload()];
    assert.deepEqual(await Promise.all(stalled.map((d) => d.started)), [true, true, true]);
    const fourth = stalledDownload();
    assert.equal(await Promise.race([fourth.started, sleep(300).then(() => 'waiting')]), 'waiting', "the attacker's fourth download waits for one of its own");

    const started = performance.now();
    // Reported, not bounded: it must finish while the attacker's downloads stay stalled.
    const got = await fetch(victim.blobUrl('locks/big'), { headers: victim.headers, signal: AbortSignal.timeout(60_000) });
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(blob));
    const ms = performance.now() - started;
    t.diagnostic(`victim's 24 MiB download while the attacker stalls 3 of its own: ${ms.toFixed(0)} ms`);

    stalled[0]!.req.destroy();
    assert.equal(await fourth.started, true, 'a download that ends frees its slot');
    assert.equal(await health(), 200);
  });

  it('caps the live event streams of a subscription with a one-line 429; other tenants and closed streams free', async (t) => {
    const { url, victim, attacker, dataDir, health, holdOpen } = await startHostileSetting(t);
    const eventsUrl = (tenant: Tenant) => url + routePath(routes.subscriptionEvents, { subscriptionId: tenant.subscriptionId });
    const open = async (tenant: Tenant) => {
      const controller = new AbortController();
      const answer = await fetch(eventsUrl(tenant), { headers: tenant.headers, signal: controller.signal });
      return { answer, close: () => controller.abort() };
    };
    const streams: Awaited<ReturnType<typeof open>>[] = [];
    for (let i = 0; i < 8; i++) streams.push(await open(attacker));
    holdOpen(() => streams.forEach((s) => s.close()));
    for (const s of streams) assert.equal(s.answer.status, 200);
    const refused = await open(attacker);
    assert.equal(refused.answer.status, 429);
    const body = (await refused.answer.json()) as { error: string; message: string };
    assert.equal(body.error, 'BUSY');
    assert.match(body.message, /8 live event streams are open/);
    assertOneLine(body.message, dataDir);

    const victims = await open(victim);
    assert.equal(victims.answer.status, 200, 'another subscription has streams of its own');
    victims.close();
    streams.pop()!.close();
    await sleep(100);
    const again = await open(attacker);
    assert.equal(again.answer.status, 200, 'a closed stream frees its place');
    streams.push(again);
    assert.equal(await health(), 200);
  });
});
