import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FinishJob, HOOK_OUTPUT_TAIL, type BackupJob, type DatacenterView, type Overview, type Session } from '../src/api/schemas.js';
import { hashSecret } from '../src/service/identity/secrets.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { createImportJob, receiveDrive, setShipping } from '../src/service/importexport/import-jobs.js';
import { startService, type RunningService } from '../src/service/start-service.js';
import { finishJob, startJob } from '../src/service/vault/vaults.js';
import { ensureStorageAccount } from '../src/service/accounts/storage-accounts.js';
import { shippingDetails } from './service-harness.js';

const HOUR = 3_600_000;
const shipping = shippingDetails('TRK-CONSOLE-1');

/** A server with a running backup job in the given subscription, straight in the database (no agent needed here). */
async function runningJob(service: RunningService, subscriptionId: string, now: Date): Promise<{ job: BackupJob; serverPath: string }> {
  const db = service.database.db;
  const at = now.toISOString();
  const applicationId = randomUUID();
  const vaultId = randomUUID();
  const vaultName = `v-${vaultId.slice(0, 8)}`;
  const serverId = randomUUID();
  await db
    .insertInto('applications')
    .values({ id: applicationId, subscription_id: subscriptionId, name: `app-${applicationId}`, created_at: at })
    .execute();
  await db.insertInto('vaults').values({ id: vaultId, subscription_id: subscriptionId, name: vaultName, created_at: at }).execute();
  const server = {
    id: serverId,
    vault_id: vaultId,
    subscription_id: subscriptionId,
    name: 'web-01',
    application_id: applicationId,
    paths: '["/srv"]',
    schedule: null,
    registered_at: at,
  };
  await db.insertInto('servers').values(server).execute();
  const job = await startJob(db, server, 'online', now);
  return { job, serverPath: `/v1/subscriptions/${subscriptionId}/vaults/${vaultName}/servers/${serverId}` };
}

interface TestDatabase {
  /** postgres://… or undefined for SQLite in the data dir. */
  url?: string;
  stop(): Promise<void>;
}

/** The same cases on SQLite and on a real PostgreSQL: sessions and live events must work the same on both. */
function consoleApiCases(label: string, openDatabase: () => Promise<TestDatabase>) {
  describe(`console API on ${label}: sessions, scoping, live events, operator, static files`, () => {
    let service: RunningService;
    let dir: string;
    let database: TestDatabase;
    let clock = Date.parse('2026-11-25T10:00:00Z');
    let subscriptionId: string;
    let ownerKey: string;
    const start = () => startService({ dataDir: dir, db: database.url, listen: '127.0.0.1:0', now: () => new Date(clock) });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'console-api-'));
      database = await openDatabase();
      service = await start();
      ({ subscriptionId, ownerKey } = service.bootstrap!);
    });
    after(async () => {
      await service.stop();
      await database.stop();
      await rm(dir, { recursive: true, force: true });
    });

    const request = (path: string, init: RequestInit & { cookie?: string; console?: boolean } = {}) => {
      const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
      if (init.cookie) headers.cookie = init.cookie;
      if (init.console) headers['x-driveseed-console'] = '1';
      if (init.body) headers['content-type'] = 'application/json';
      return fetch(service.url + path, { ...init, headers });
    };
    const signIn = async (key: string) => {
      const response = await request('/v1/session', { method: 'POST', body: JSON.stringify({ key }) });
      assert.equal(response.status, 201);
      const cookie = response.headers.get('set-cookie')!;
      return { cookie: cookie.split(';')[0], header: cookie, session: (await response.json()) as Session };
    };

    it('a wrong key gets 401 with one generic message; a right one a HttpOnly SameSite=Strict cookie', async () => {
      for (const key of ['wrong', `${ownerKey}x`, 'dsop_nothing']) {
        const refused = await request('/v1/session', { method: 'POST', body: JSON.stringify({ key }) });
        assert.equal(refused.status, 401);
        assert.deepEqual(await refused.json(), { error: 'UNAUTHORIZED', message: 'this key was not accepted' });
      }
      const { header, session, cookie } = await signIn(ownerKey);
      assert.match(header, /^driveseed_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
      assert.deepEqual({ role: session.role, subscriptionId: session.subscriptionId }, { role: 'owner', subscriptionId });
      const token = cookie.split('=')[1];
      const rows = await service.database.db.selectFrom('console_sessions').select('token_hash').execute();
      assert.ok(
        rows.some((r) => r.token_hash === hashSecret(token)),
        'the hash of the token is stored',
      );
      assert.ok(!rows.some((r) => r.token_hash === token), 'the token itself is not');
    });

    it('the cookie is the owner for reads; changes also need the console header; sign-out and expiry end it', async () => {
      const { cookie } = await signIn(ownerKey);
      assert.equal((await request(`/v1/subscriptions/${subscriptionId}/overview`, { cookie })).status, 200);
      const cancel = `/v1/subscriptions/${subscriptionId}/import-jobs/no-such-job/cancel`;
      const forged = await request(cancel, { method: 'POST', cookie });
      assert.equal(forged.status, 403);
      assert.match(((await forged.json()) as { message: string }).message, /x-driveseed-console/);
      assert.equal((await request(cancel, { method: 'POST', cookie, console: true })).status, 404);

      assert.equal((await request('/v1/session', { method: 'DELETE', cookie })).status, 403);
      const out = await request('/v1/session', { method: 'DELETE', cookie, console: true });
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
      assert.equal((await request(`/v1/subscriptions/${subscriptionId}/overview`, { cookie })).status, 401);

      const later = await signIn(ownerKey);
      clock += 13 * HOUR;
      try {
        const expired = await request('/v1/session', { cookie: later.cookie });
        assert.equal(expired.status, 401);
      } finally {
        clock -= 13 * HOUR;
      }
    });

    it('sessions live in the database: they survive a service restart', async () => {
      const { cookie } = await signIn(ownerKey);
      await service.stop();
      service = await start();
      const session = await request('/v1/session', { cookie });
      assert.equal(session.status, 200);
    });

    it("another subscription's job is not found; its subscription id is refused", async () => {
      const other = await createSubscription(service.database.db, 'other', new Date(clock));
      const mine = await runningJob(service, subscriptionId, new Date(clock));
      const theirs = await runningJob(service, other.id, new Date(clock));
      const { cookie } = await signIn(ownerKey);
      assert.equal((await request(`/v1/subscriptions/${subscriptionId}/backup-jobs/${mine.job.id}`, { cookie })).status, 200);
      const notMine = await request(`/v1/subscriptions/${subscriptionId}/backup-jobs/${theirs.job.id}`, { cookie });
      assert.equal(notMine.status, 404);
      assert.equal((await request(`/v1/subscriptions/${other.id}/overview`, { cookie })).status, 403);
      const list = (await (await request(`/v1/subscriptions/${subscriptionId}/backup-jobs?state=InProgress`, { cookie })).json()) as { jobs: BackupJob[] };
      assert.ok(list.jobs.every((j) => j.id !== theirs.job.id));
      assert.equal((await request(`/v1/subscriptions/${subscriptionId}/backup-jobs?limit=lots`, { cookie })).status, 400);
    });

    it("a job's hook output is its own subscription's: its owner reads it, another owner sees it nowhere; the output kept is bounded", async () => {
      const other = await createSubscription(service.database.db, 'other-hooks', new Date(clock));
      const mine = await runningJob(service, subscriptionId, new Date(clock));
      const server = await service.database.db.selectFrom('servers').selectAll().where('id', '=', mine.job.serverId).executeTakeFirstOrThrow();
      const secret = 'pg_ctl: password hunter2 was rejected';
      const hooks = { pre: { command: 'pg_ctl freeze', exitCode: 3, signal: null, output: `${secret}\n`, durationMs: 12 } };
      const outcome = {
        state: 'Failed' as const,
        filesNew: 0,
        filesChanged: 0,
        filesUnchanged: 0,
        bytesRead: 0,
        bytesSent: 0,
        warnings: 0,
        error: 'pre hook failed',
      };
      await finishJob(service.database.db, server, mine.job.id, { ...outcome, hooks }, new Date(clock));
      const { cookie } = await signIn(ownerKey);
      const detail = (await (await request(`/v1/subscriptions/${subscriptionId}/backup-jobs/${mine.job.id}`, { cookie })).json()) as BackupJob;
      assert.deepEqual(detail.hooks, hooks);

      const theirs = await signIn(other.ownerKey);
      assert.equal((await request(`/v1/subscriptions/${subscriptionId}/backup-jobs/${mine.job.id}`, { cookie: theirs.cookie })).status, 403);
      assert.equal((await request(`/v1/subscriptions/${other.id}/backup-jobs/${mine.job.id}`, { cookie: theirs.cookie })).status, 404);
      const theirList = await (await request(`/v1/subscriptions/${other.id}/backup-jobs`, { cookie: theirs.cookie })).text();
      assert.ok(!theirList.includes('hunter2'), "another subscription's job list holds no hook output of this one");

      // The agent sends at most the tail: a longer output, a longer command or more owed hooks are refused by the schema the service validates with.
      const { TypeCompiler } = await import('@sinclair/typebox/compiler');
      const check = TypeCompiler.Compile(FinishJob);
      assert.equal(check.Check({ ...outcome, hooks }), true);
      assert.equal(check.Check({ ...outcome, hooks: { pre: { ...hooks.pre, output: 'x'.repeat(HOOK_OUTPUT_TAIL + 1) } } }), false);
      assert.equal(check.Check({ ...outcome, hooks: { post: { ...hooks.pre, command: 'x'.repeat(2001) } } }), false);
      assert.equal(check.Check({ ...outcome, hooks: { owed: Array(9).fill(hooks.pre) } }), false);
      assert.equal(check.Check({ ...outcome, hooks: { pre: { ...hooks.pre, stdout: 'extra' } } }), false);
    });

    it('progress reports reach the job and its live event stream; a finished job takes none', async () => {
      const { job, serverPath } = await runningJob(service, subscriptionId, new Date(clock));
      const { cookie } = await signIn(ownerKey);
      const owner = { authorization: `OwnerKey ${ownerKey}` };
      const controller = new AbortController();
      const stream = await request(`/v1/subscriptions/${subscriptionId}/events`, { cookie, signal: controller.signal });
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type')!, /text\/event-stream/);
      assert.match(stream.headers.get('content-security-policy')!, /default-src 'self'/);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      let received = '';
      const readUntil = async (pattern: RegExp) => {
        while (!pattern.test(received)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${pattern}: ${received}`);
          received += value;
        }
      };
      await readUntil(/retry: \d+/);

      const progress = await request(`${serverPath}/jobs/${job.id}/progress`, {
        method: 'POST',
        headers: owner,
        body: JSON.stringify({ files: 42, bytes: 4_200_000, errors: 0, sent: 1_000_000 }),
      });
      assert.equal(progress.status, 204);
      await readUntil(/event: backup-job\ndata: .*"files":42/);
      const event = JSON.parse(/event: backup-job\ndata: (.*)\n/.exec(received)![1]) as BackupJob;
      assert.equal(event.id, job.id);
      assert.deepEqual({ ...event.progress, at: undefined }, { files: 42, bytes: 4_200_000, errors: 0, sent: 1_000_000, at: undefined });
      controller.abort();

      const bad = await request(`${serverPath}/jobs/${job.id}/progress`, {
        method: 'POST',
        headers: owner,
        body: JSON.stringify({ files: -1, bytes: 0, errors: 0, sent: 0 }),
      });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { field: string }).field, 'files');
      await request(`${serverPath}/jobs/${job.id}`, {
        method: 'PUT',
        headers: owner,
        body: JSON.stringify({ state: 'Failed', filesNew: 0, filesChanged: 0, filesUnchanged: 0, bytesRead: 0, bytesSent: 0, warnings: 0, error: 'disk gone' }),
      });
      const late = await request(`${serverPath}/jobs/${job.id}/progress`, {
        method: 'POST',
        headers: owner,
        body: JSON.stringify({ files: 43, bytes: 0, errors: 0, sent: 0 }),
      });
      assert.equal(late.status, 409);
      const overview = (await (await request(`/v1/subscriptions/${subscriptionId}/overview`, { cookie })).json()) as Overview;
      assert.ok(overview.attention.some((a) => a.kind === 'backup-failed' && a.message.includes('disk gone') && a.link === `/jobs/${job.id}`));
      assert.ok(overview.attention.some((a) => a.kind === 'no-recovery-point' && a.message.startsWith('web-01 in vault ') && a.link === `/jobs/${job.id}`));
    });

    it("the operator key (in bootstrap.json) sees every subscription's import jobs; owners do not", async () => {
      const bootstrap = JSON.parse(await readFile(join(dir, 'bootstrap.json'), 'utf8')) as { operatorKey: string };
      assert.match(bootstrap.operatorKey, /^dsop_/);
      const other = await createSubscription(service.database.db, 'third', new Date(clock));
      const drive = () => ({ driveId: randomUUID(), key: Buffer.alloc(32, 7).toString('base64'), manifestSha256: 'a'.repeat(64), files: 1, bytes: 10 });
      await ensureStorageAccount(service.database.db, subscriptionId, 'acct', new Date(clock));
      await ensureStorageAccount(service.database.db, other.id, 'theiracct', new Date(clock));
      const mine = await createImportJob(
        service.database.db,
        subscriptionId,
        { name: 'mine', storageAccount: 'acct', container: 'seed', drives: [drive()] },
        new Date(clock),
      );
      await setShipping(service.database.db, subscriptionId, 'mine', shipping, new Date(clock));
      await receiveDrive(service.database.db, mine.id, mine.drives[0].driveId, new Date(clock));
      await createImportJob(
        service.database.db,
        other.id,
        { name: 'theirs', storageAccount: 'theiracct', container: 'seed', drives: [drive()] },
        new Date(clock),
      );

      const operator = await signIn(bootstrap.operatorKey);
      assert.equal(operator.session.role, 'operator');
      const view = (await (await request('/v1/datacenter', { cookie: operator.cookie })).json()) as DatacenterView;
      assert.deepEqual(view.jobs.map((j) => j.name).sort(), ['mine', 'theirs']);
      assert.equal(view.jobs.find((j) => j.name === 'theirs')!.subscriptionId, other.id);
      assert.deepEqual(
        view.queue.map((d) => [d.jobName, d.driveId, d.state]),
        [['mine', mine.drives[0].driveId, 'Received']],
      );
      assert.deepEqual(view.incoming, [], 'a job whose drives arrived is no longer incoming');
      const byHeader = await request('/v1/datacenter', { headers: { authorization: `OperatorKey ${bootstrap.operatorKey}` } });
      assert.equal(byHeader.status, 200);
      assert.equal((await request(`/v1/subscriptions/${subscriptionId}/overview`, { cookie: operator.cookie })).status, 403);
      const owner = await signIn(ownerKey);
      assert.equal((await request('/v1/datacenter', { cookie: owner.cookie })).status, 403);
      // The key is made once: a restart neither changes nor reprints it.
      await service.stop();
      service = await start();
      assert.equal(service.operatorKey, undefined);
      assert.equal((await signIn(bootstrap.operatorKey)).session.role, 'operator');
    });

    it('serves the console: index.html revalidated, hashed assets immutable and gzipped, client routes, CSP', async () => {
      const index = await request('/');
      assert.equal(index.status, 200);
      assert.equal(index.headers.get('cache-control'), 'no-cache');
      assert.equal(
        index.headers.get('content-security-policy'),
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      );
      const html = await index.text();
      assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
      assert.doesNotMatch(html, /<style|style=/, 'no inline style');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
      const asset = await fetch(service.url + script, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(asset.headers.get('content-encoding'), 'gzip');
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.match(asset.headers.get('content-type')!, /javascript/);
      const clientRoute = await request('/import-jobs/seed-1');
      assert.equal(clientRoute.status, 200);
      assert.equal(await clientRoute.text(), html);
      const api = await request('/v1/no-such-thing');
      assert.equal(api.status, 404);
      assert.equal(((await api.json()) as { error: string }).error, 'NOT_FOUND');
      assert.equal((await request('/assets/missing-0000.js')).status, 404);
      const spec = JSON.stringify(await (await request('/openapi.json')).json());
      for (const path of [
        '/v1/session',
        '/v1/datacenter',
        '/v1/subscriptions/{subscriptionId}/overview',
        '/v1/subscriptions/{subscriptionId}/backup-jobs/{jobId}',
        '{jobId}/progress',
      ])
        assert.ok(spec.includes(path), path);
    });
  });
}

consoleApiCases('SQLite', async () => ({ stop: async () => undefined }));
consoleApiCases('PostgreSQL', async () => {
  const { startPostgres } = await import('../src/testing/postgres.js');
  const postgres = await startPostgres();
  return { url: await postgres.createDatabase('console'), stop: () => postgres.stop() };
});
