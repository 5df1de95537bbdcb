import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceClient } from '../src/api/service-client.js';
import { startService, type RunningService } from '../src/service/start-service.js';
import { closeStaleJobs } from '../src/service/vault/job-liveness.js';
import { applyDeadlines, finishDrive, receiveDrive, startDriveTransfer } from '../src/service/importexport/import-jobs.js';
import { startSmtpSink, type SmtpSink } from '../src/testing/smtp-sink.js';
import { cliAwait, json, tempDir } from './cli-harness.js';
import { shippingDetails } from './service-harness.js';
import { startHookReceiver } from './alert-receiver.js';

const DAY = 86_400_000;
const SNAPSHOT = () => randomBytes(32).toString('hex');
const DONE = { filesNew: 1, filesChanged: 0, filesUnchanged: 0, bytesRead: 10, bytesSent: 10, warnings: 0 };

/** A service in this process on a clock the test moves, its alert rounds run only when the test says. */
async function alertService(t: any, extra: { smtp?: SmtpSink; allowPrivateWebhooks?: boolean } = {}) {
  const dir = await tempDir(t, 'alerts-');
  let clock = Date.parse('2026-03-02T00:00:00Z');
  const running: RunningService = await startService({
    dataDir: join(dir, 'service'),
    listen: '127.0.0.1:0',
    now: () => new Date(clock),
    importWorker: false,
    alertIntervalSeconds: 0,
    allowPrivateWebhooks: extra.allowPrivateWebhooks ?? true,
    ...(extra.smtp ? { smtp: { url: extra.smtp.url, from: 'alerts@driveseed.test' } } : {}),
  });
  t.after(() => running.stop());
  const subscriptionId = running.bootstrap!.subscriptionId;
  const owner = new ServiceClient(running.url, { ownerKey: running.bootstrap!.ownerKey });
  const settings = join(dir, 'publish.json');
  await writeFile(settings, JSON.stringify({ version: 1, serviceUrl: running.url, subscriptionId, ownerKey: running.bootstrap!.ownerKey }));
  return {
    dir,
    running,
    owner,
    settings,
    subscription: { subscriptionId },
    db: running.database.db,
    now: () => new Date(clock),
    advance: (ms: number) => (clock += ms),
    setClock: (iso: string) => (clock = Date.parse(iso)),
  };
}

/** A server registered by the real agent (its own application and certificate), to act for through the owner's API. */
async function registeredServer(s: Awaited<ReturnType<typeof alertService>>, name: string) {
  const registered = await cliAwait(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--name', name, '--json'], {
    DRIVESEED_HOME: join(s.dir, `agent-${name}`),
  });
  assert.equal(registered.code, 0, registered.stderr);
  return { ...s.subscription, vaultName: 'main', serverId: json(registered).id as string };
}

describe('alerts by e-mail (a real SMTP server) and signed webhooks', () => {
  it('raises each kind once, however many rounds see it, and resolves it when it clears', { timeout: 180_000 }, async (t) => {
    const smtp = await startSmtpSink();
    t.after(() => smtp.stop());
    let secret = '';
    const hooks = await startHookReceiver(() => secret);
    t.after(() => hooks.close());
    const s = await alertService(t, { smtp });
    const mail = await s.owner.request('createAlertTarget', { params: s.subscription, body: { kind: 'email', address: 'ops@example.org' } });
    assert.equal(mail.secret, undefined, 'e-mail needs no secret');
    const hook = await s.owner.request('createAlertTarget', { params: s.subscription, body: { kind: 'webhook', address: hooks.url } });
    secret = hook.secret!;
    assert.match(secret, /^whsec_/);
    const server = await registeredServer(s, 'web-01');

    /** Rounds until nothing changes, three at least: a condition seen by every one is still one alert. */
    const rounds = async () => {
      for (let i = 0; i < 3; i++) await s.running.alerts.runOnce();
    };
    /** Each message so far, as "raised KIND" / "resolved KIND", from the webhook and from the mailbox, which must agree. */
    const events = async () => {
      const fromHooks = hooks.received.map((h) => `${h.event.slice('alert.'.length)} ${h.body.alert.kind}`);
      const fromMail = (await smtp.messages()).map((m) => `${m.headers['x-driveseed-event'].slice('alert.'.length)} ${/: (\S+)/.exec(m.headers.subject)![1]}`);
      // Within a round deliveries go in no set order, and Maildir's file names do not keep it: compared as sets.
      assert.deepEqual([...fromMail].sort(), [...fromHooks].sort(), 'the mailbox got what the webhook got');
      return fromHooks;
    };

    // A server newly protected is no alert; its first backup running is none either; that backup failing is two.
    await s.owner.request('setPolicy', { params: server, body: { paths: ['/srv/data'] } });
    await rounds();
    let job = await s.owner.request('startJob', { params: server, body: { kind: 'online' } });
    await rounds();
    assert.deepEqual(await events(), []);
    await s.owner.request('finishJob', { params: { ...server, jobId: job.id }, body: { ...DONE, state: 'Failed', error: 'disk /srv unreadable' } });
    await rounds();
    assert.deepEqual((await events()).sort(), ['raised backup-failed', 'raised no-recovery-point']);
    // The retry running clears neither: no alert flaps with each attempt.
    const retry = await s.owner.request('startJob', { params: server, body: { kind: 'online' } });
    await rounds();
    assert.equal((await events()).length, 2);
    await s.owner.request('finishJob', { params: { ...server, jobId: retry.id }, body: { ...DONE, state: 'Failed', error: 'disk /srv unreadable' } });
    await rounds();
    assert.equal((await events()).length, 2, 'failing again is the same alert');
    const open = (await s.owner.request('listAlerts', { params: s.subscription, query: {} })).alerts;
    assert.deepEqual(open.map((a) => a.kind).sort(), ['backup-failed', 'no-recovery-point']);
    assert.match(open.find((a) => a.kind === 'backup-failed')!.message, /web-01 failed: disk \/srv unreadable/);
    // The console's "needs attention" lists the same conditions.
    const attention = (await s.owner.request('overview', { params: s.subscription })).attention.map((a) => a.kind);
    assert.deepEqual(attention.sort(), ['backup-failed', 'no-recovery-point']);

    // The next backup succeeds: both clear.
    job = await s.owner.request('startJob', { params: server, body: { kind: 'online' } });
    const point = { snapshotId: SNAPSHOT(), time: s.now().toISOString(), totalBytes: 10, files: 1 };
    await s.owner.request('finishJob', { params: { ...server, jobId: job.id }, body: { ...DONE, state: 'Completed', recoveryPoint: point } });
    await rounds();
    assert.deepEqual((await events()).slice(2).sort(), ['resolved backup-failed', 'resolved no-recovery-point']);
    assert.deepEqual((await s.owner.request('listAlerts', { params: s.subscription, query: {} })).alerts, []);

    // Import jobs: a deadline two days ahead, drives that never arrived, one imported with errors.
    await s.owner.request('ensureStorageAccount', { params: { ...s.subscription, account: 'seedacct' } });
    const drives = [0, 1].map(() => ({ driveId: randomUUID(), key: randomBytes(32).toString('base64'), manifestSha256: 'a'.repeat(64), files: 1, bytes: 1 }));
    const importJob = await s.owner.request('createImportJob', {
      params: s.subscription,
      body: { name: 'seed-1', storageAccount: 'seedacct', container: 'seed', drives },
    });
    await s.owner.request('setShipping', { params: { ...s.subscription, jobName: 'seed-1' }, body: shippingDetails('TRK-ALERT-1') });
    await rounds();
    assert.equal((await events()).length, 4, 'a deadline two weeks ahead is no alert yet');
    s.advance(12 * DAY);
    await rounds();
    assert.deepEqual((await events()).slice(4), ['raised deadline-near']);
    s.advance(3 * DAY);
    await applyDeadlines(s.db, s.now());
    await rounds();
    assert.deepEqual((await events()).slice(5), ['raised drive-never-received', 'raised drive-never-received']);
    // One turns up late and is imported with errors: "never received" clears, "needs info" is raised.
    await receiveDrive(s.db, importJob.id, drives[0].driveId, s.now());
    await startDriveTransfer(s.db, importJob.id, drives[0].driveId, s.now());
    await finishDrive(s.db, importJob.id, drives[0].driveId, { ok: false, errorLog: 'block 3: bad hash', verboseLog: '' }, s.now());
    await rounds();
    // Received, the job has no arrival deadline any more: that alert clears too.
    assert.deepEqual((await events()).slice(7).sort(), ['raised drive-needs-info', 'resolved deadline-near', 'resolved drive-never-received']);
    const subjects = hooks.received.slice(5, 7).map((h) => h.body.alert.subject);
    assert.deepEqual(subjects.sort(), drives.map((d) => d.driveId).sort(), 'one alert per drive');

    // A schedule in the agent's zone: the 02:00 Tokyo run (17:00 UTC) is missed once the grace hour has passed.
    s.setClock('2026-03-20T12:00:00Z');
    await s.owner.request('setPolicy', { params: server, body: { paths: ['/srv/data'], schedule: '0 2 * * *', timeZone: 'Asia/Tokyo' } });
    s.setClock('2026-03-20T17:59:00Z');
    await rounds();
    assert.equal((await events()).length, 10, 'within the grace hour nothing is missed yet');
    s.setClock('2026-03-20T18:01:00Z');
    await rounds();
    assert.deepEqual((await events()).slice(10), ['raised backup-missed']);
    assert.match(hooks.received.at(-1)!.body.alert.message, /2026-03-20T17:00:00.000Z \("0 2 \* \* \*" in Asia\/Tokyo\)/);
    // A backup starts (late): missed clears. Its agent then goes silent: the job is closed, a stalled job.
    job = await s.owner.request('startJob', { params: server, body: { kind: 'online' } });
    await rounds();
    assert.deepEqual((await events()).slice(11), ['resolved backup-missed']);
    s.advance(11 * 60_000);
    assert.equal(await closeStaleJobs(s.db, s.now(), 600), 1);
    await rounds();
    assert.deepEqual((await events()).slice(12), ['raised job-stalled']);
    assert.match(hooks.received.at(-1)!.body.alert.message, /stalled and was closed: no heartbeat/);

    // Every webhook was signed over its exact body with the service's time, under its delivery id.
    for (const h of hooks.received) {
      assert.ok(h.signed, `delivery ${h.delivery} is signed with the target's secret`);
      assert.equal(h.body.id, h.delivery);
      assert.equal(h.event, h.body.event);
    }
    assert.equal(hooks.received.at(-1)!.timestamp, Math.floor(s.now().getTime() / 1000));
    assert.equal(new Set(hooks.received.map((h) => h.delivery)).size, hooks.received.length, 'no delivery was sent twice');
    // Mail went to the address, from the service's address, with the console link.
    const last = (await smtp.messages()).find((m) => /stalled/.test(m.headers.subject + m.text))!;
    assert.match(last.headers.subject, /^\[driveseed\] Alert: job-stalled in vault main$/);
    assert.match(last.headers.to, /ops@example\.org/);
    assert.match(last.headers.from, /alerts@driveseed\.test/);
    assert.match(last.text, new RegExp(`In the console: ${s.running.url}/jobs/${job.id}`));
    const all = (await s.owner.request('listAlerts', { params: s.subscription, query: { state: 'all' } })).alerts;
    assert.equal(all.length, 8);
    assert.deepEqual(
      all
        .filter((a) => !a.resolvedAt)
        .map((a) => a.kind)
        .sort(),
      ['drive-needs-info', 'drive-never-received', 'job-stalled'],
    );
  });

  it(
    'retries a failing webhook with backoff under the same delivery id, never follows a redirect, bounds the answer, and gives up in the end',
    { timeout: 120_000 },
    async (t) => {
      let secret = '';
      // Each delivery's first attempt is answered 503, the next accepted: the retry must be the same delivery, same body.
      const seen = new Set<string>();
      const flaky = await startHookReceiver(
        () => secret,
        (req, res) => {
          const id = String(req.headers['driveseed-delivery']);
          if (seen.has(id)) return res.writeHead(200).end('ok');
          seen.add(id);
          res.writeHead(503).end('busy, try later');
        },
      );
      t.after(() => flaky.close());
      const redirect = await startHookReceiver(
        () => secret,
        (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      );
      t.after(() => redirect.close());
      // An endless error page: the sender reads a bounded part of it and moves on.
      const endless = await startHookReceiver(
        () => secret,
        (_req, res) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          const chunk = Buffer.alloc(64 * 1024, 'x');
          const pump = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once('drain', pump);
          };
          pump();
        },
      );
      t.after(() => endless.close());
      const s = await alertService(t);
      const targets: Record<string, { id: string; secret?: string }> = {};
      for (const [name, url] of Object.entries({ flaky: flaky.url, redirect: redirect.url, endless: endless.url }))
        targets[name] = await s.owner.request('createAlertTarget', { params: s.subscription, body: { kind: 'webhook', address: url } });
      secret = targets.flaky.secret!;
      const server = await registeredServer(s, 'db-01');
      await s.owner.request('setPolicy', { params: server, body: { paths: ['/var/lib/db'] } });
      const failed = await s.owner.request('startJob', { params: server, body: { kind: 'online' } });
      await s.owner.request('finishJob', { params: { ...server, jobId: failed.id }, body: { ...DONE, state: 'Failed', error: 'database locked' } });

      const first = await s.running.alerts.runOnce();
      // Two conditions (failed, and no recovery point), three targets: six deliveries, none through yet.
      assert.deepEqual({ raised: first.raised, delivered: first.delivered, retrying: first.retrying }, { raised: 2, delivered: 0, retrying: 6 });
      // Not due yet: nothing is sent again in the same minute.
      await s.running.alerts.runOnce();
      assert.equal(flaky.received.length, 2);
      s.advance(61_000);
      const second = await s.running.alerts.runOnce();
      assert.equal(second.delivered, 2);
      assert.equal(flaky.received.length, 4);
      for (const retried of flaky.received.slice(2)) {
        const original = flaky.received.find((h) => h.delivery === retried.delivery)!;
        assert.notEqual(original, retried, 'a retry is the same delivery');
        assert.equal(retried.raw, original.raw, 'with the same body');
        assert.ok(retried.signed);
        assert.ok(retried.timestamp > original.timestamp, 'signed anew at its own time');
      }
      assert.equal(redirect.received.length, 4, 'the redirect was never followed (and each attempt hit the URL itself)');

      // Through every backoff step: the redirecting and the endless target are given up after the last attempt.
      for (const wait of [5, 30, 120, 360].map((m) => m * 60_000 + 1000)) {
        s.advance(wait);
        await s.running.alerts.runOnce();
      }
      s.advance(24 * 3600_000);
      const after = await s.running.alerts.runOnce();
      assert.equal(after.retrying + after.delivered + after.failed, 0, 'nothing is left to send');
      const listed = new Map((await s.owner.request('listAlertTargets', { params: s.subscription })).targets.map((x) => [x.id, x]));
      assert.equal(listed.get(targets.flaky.id)!.lastDelivery!.state, 'delivered');
      assert.equal(listed.get(targets.flaky.id)!.lastDelivery!.attempts, 2);
      assert.equal(listed.get(targets.redirect.id)!.lastDelivery!.state, 'failed');
      assert.equal(listed.get(targets.redirect.id)!.lastDelivery!.attempts, 6);
      assert.match(listed.get(targets.redirect.id)!.lastDelivery!.error!, /302 \(redirects are not followed\)/);
      assert.equal(listed.get(targets.endless.id)!.lastDelivery!.state, 'failed');
      assert.match(listed.get(targets.endless.id)!.lastDelivery!.error!, /answered 500: x{10}/);
      assert.ok(listed.get(targets.endless.id)!.lastDelivery!.error!.length < 600, 'the error keeps a few bytes of the answer, not all of it');
      assert.equal(redirect.received.length, 12, 'six attempts for each of the two alerts');
      for (const target of listed.values()) assert.equal(target.secret, undefined, 'a listed target shows no secret');
    },
  );

  it('refuses hostile targets with one line, and records none of them', { timeout: 120_000 }, async (t) => {
    const s = await alertService(t, { allowPrivateWebhooks: false });
    const refused: [string, string, RegExp][] = [
      ['webhook', 'http://127.0.0.1:9/hook', /127\.0\.0\.1, a loopback, private or link-local address/],
      ['webhook', 'http://localhost:9/hook', /loopback, private or link-local/],
      ['webhook', 'http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254/],
      ['webhook', 'http://10.1.2.3/', /10\.1\.2\.3/],
      ['webhook', 'https://192.168.0.10/', /192\.168\.0\.10/],
      ['webhook', 'http://[::1]:8080/', /::1/],
      ['webhook', 'http://[::ffff:127.0.0.1]/', /loopback/],
      ['webhook', 'http://[fd00::1]/', /fd00::1/],
      ['webhook', 'http://0.0.0.0/', /0\.0\.0\.0/],
      ['webhook', 'ftp://example.org/x', /http:\/\/ or https:\/\/, not ftp:/],
      ['webhook', 'http://user:secret@example.org/', /no user or password/],
      ['webhook', 'not a url', /not a URL/],
      ['email', 'ops@example.org', /this service sends no e-mail/],
    ];
    for (const [kind, address, message] of refused) {
      await assert.rejects(
        s.owner.request('createAlertTarget', { params: s.subscription, body: { kind: kind as 'email' | 'webhook', address } }),
        (e: Error) => {
          assert.match(e.message, message, address);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        },
      );
    }
    // Through the CLI: exit 1, one line on stderr that says what to do.
    const cliRefused = await cliAwait(['alerts', 'add', '--publish-settings', s.settings, '--webhook', 'http://127.0.0.1:9/hook']);
    assert.equal(cliRefused.code, 1);
    assert.match(cliRefused.stderr, /loopback, private or link-local address.*--allow-private-webhooks/);
    assert.equal(cliRefused.stderr.trim().split('\n').length, 1);
    const usage = await cliAwait(['alerts', 'add', '--publish-settings', s.settings]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give one of --email ADDRESS or --webhook URL/);
    assert.deepEqual((await s.owner.request('listAlertTargets', { params: s.subscription })).targets, []);
    // Another subscription's key (none here: a wrong one) sees nothing.
    const stranger = new ServiceClient(s.running.url, { ownerKey: 'dsok_not-the-key' });
    await assert.rejects(stranger.request('listAlerts', { params: s.subscription, query: {} }), /UNAUTHORIZED|not|key/i);
  });

  it('alerts add, targets, list and remove from the command line', { timeout: 120_000 }, async (t) => {
    const smtp = await startSmtpSink();
    t.after(() => smtp.stop());
    const s = await alertService(t, { smtp });
    const added = await cliAwait(['alerts', 'add', '--publish-settings', s.settings, '--email', 'ops@example.org', '--vault', 'main', '--json']);
    assert.equal(added.code, 1, 'a vault that does not exist yet is refused');
    assert.match(added.stderr, /no vault main/);
    await registeredServer(s, 'app-01');
    const ok = json(await cliAwait(['alerts', 'add', '--publish-settings', s.settings, '--email', 'ops@example.org', '--vault', 'main', '--json']));
    assert.equal(ok.vaultName, 'main');
    const hook = await cliAwait(['alerts', 'add', '--publish-settings', s.settings, '--webhook', 'http://127.0.0.1:9/x']);
    assert.equal(hook.code, 0, hook.stderr);
    assert.match(hook.stdout, /signing secret \(shown this once.*\): whsec_/);
    const listed = json(await cliAwait(['alerts', 'targets', '--publish-settings', s.settings, '--json'])).targets;
    // Both targets are made at the same instant of the test's frozen clock: their order is not the point.
    assert.deepEqual(listed.map((x: { kind: string }) => x.kind).sort(), ['email', 'webhook']);
    const removed = await cliAwait(['alerts', 'remove', ok.id, '--publish-settings', s.settings]);
    assert.equal(removed.code, 0, removed.stderr);
    const again = await cliAwait(['alerts', 'remove', ok.id, '--publish-settings', s.settings]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`no alert target ${ok.id}`));
    assert.match((await cliAwait(['alerts', 'list', '--publish-settings', s.settings])).stdout, /no open alerts/);
  });
});
