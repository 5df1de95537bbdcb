import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ServiceClient } from '../src/api/service-client.js';
import { backup } from '../src/core/backup/archiver.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { Repository } from '../src/core/repo/repository.js';
import { listStaged, prepareDrives } from '../src/core/envelope/drive-writer.js';
import { FsStore } from '../src/core/storage/fs/fs-store.js';
import { freePort } from '../src/testing/azurite.js';
import { launchChromium } from '../src/testing/chromium.js';
import { cli, cliAsync, cliAwait, json, PASSWORD, tempDir } from './cli-harness.js';
import { startServiceProcess, stopProcess, tamperDrive, shippingDetails } from './service-harness.js';

const SCREENSHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;

/**
 * The copy-computer's part: a staged first backup written onto drive folders. One function,
 * so it becomes `driveseed diskprep` the day that command exists.
 */
async function prepareSeedDrives(dir: string, jobName: string) {
  const data = join(dir, `${jobName}-data`);
  await writeSampleTree(data, 8, 60);
  const staging = new FsStore(join(dir, `${jobName}-staging`));
  await backup(await Repository.init(staging, PASSWORD), { paths: [data] });
  const paths = [join(dir, `${jobName}-drive1`), join(dir, `${jobName}-drive2`)];
  for (const p of paths) await mkdir(p);
  // The first drive takes the config and the first data pack (plus the writer's 1 MiB reserve), the second the
  // rest: both carry data. With 6 MiB each the seed fit on one and the second joined the job empty (issue 18).
  const [config, firstPack] = (await listStaged(staging)).filter((f) => f.name === 'config' || f.name.startsWith('data/'));
  const capacities = [1024 * 1024 + config.size + firstPack.size + 4 * 1024, 64 * 1024 * 1024];
  const prepared = await prepareDrives({
    staging,
    jobName,
    drives: paths.map((path, i) => ({ path, capacity: capacities[i] })),
    stateDir: join(dir, `${jobName}-state`),
  });
  assert.equal(prepared.remainingFiles, 0);
  return { paths, drives: prepared.drives.map(({ driveId, key, manifestSha256, files, bytes }) => ({ driveId, key, manifestSha256, files, bytes })) };
}

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe('web console in headless Chromium', () => {
  it(
    'sign-in, recovery points, an import job through its states, shipping, a drive error log, live backup progress across a restart, the operator view',
    { timeout: 300_000 },
    async (t) => {
      const dir = await tempDir(t, 'console-e2e-');
      const dataDir = join(dir, 'service');
      const port = await freePort();
      let service = await startServiceProcess(dataDir, port);
      t.after(() => stopProcess(service));
      const url = `http://127.0.0.1:${port}`;
      const bootstrap = JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8')) as {
        subscriptionId: string;
        ownerKey: string;
        operatorKey: string;
      };
      const env = { DRIVESEED_HOME: join(dir, 'agent') };

      // The agent: registered, two online backups (so recovery points have a "since the previous one").
      const settings = join(dir, 'publish.json');
      assert.equal(
        cli(
          ['service', 'publish-settings', '--service', url, '--subscription', bootstrap.subscriptionId, '--owner-key', bootstrap.ownerKey, '--out', settings],
          env,
        ).code,
        0,
      );
      json(cli(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--name', 'web-01', '--json'], env));
      const data = join(dir, 'data');
      await writeSampleTree(data, 5, 40);
      // A post hook with output: the job detail shows it.
      assert.equal(cli(['agent', 'protect', data, '--post-hook', 'echo "snapshot <b>dropped</b>"; echo lvremove done'], env).code, 0);
      assert.equal(json(cli(['agent', 'backup-now', '--json'], env)).state, 'Completed');
      await writeFile(join(data, 'added-later.bin'), randomBytes(300_000));
      const second = json(cli(['agent', 'backup-now', '--json'], env));
      assert.equal(second.state, 'Completed');

      // Two import jobs: one already shipped (its tracking number is taken), one to follow in the browser.
      const owner = new ServiceClient(url, { ownerKey: bootstrap.ownerKey });
      const subscription = { subscriptionId: bootstrap.subscriptionId };
      await owner.request('ensureStorageAccount', { params: { ...subscription, account: 'seedacct' } });
      const other = await prepareSeedDrives(dir, 'seed-other');
      await owner.request('createImportJob', {
        params: subscription,
        body: { name: 'seed-other', storageAccount: 'seedacct', container: 'other', drives: other.drives },
      });
      await owner.request('setShipping', { params: { ...subscription, jobName: 'seed-other' }, body: shippingDetails('TRK-TAKEN-1') });
      const seed = await prepareSeedDrives(dir, 'seed-main');
      await owner.request('createImportJob', {
        params: subscription,
        body: { name: 'seed-main', storageAccount: 'seedacct', container: 'seed-data', drives: seed.drives },
      });
      const unused = { driveId: randomUUID(), key: randomBytes(32).toString('base64'), manifestSha256: 'a'.repeat(64), files: 1, bytes: 1 };
      await owner.request('createImportJob', {
        params: subscription,
        body: { name: 'seed-unwanted', storageAccount: 'seedacct', container: 'unwanted', drives: [unused] },
      });
      // An offline delta's job, listed beside the seeds with its label.
      await owner.request('createImportJob', {
        params: subscription,
        body: { name: 'delta-later', storageAccount: 'seedacct', container: 'seed-data', drives: [{ ...unused, driveId: randomUUID() }], kind: 'delta' },
      });

      const chromium = await launchChromium();
      t.after(() => chromium.close());
      const page = await chromium.context.newPage();
      page.setDefaultTimeout(60_000);
      const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(`console: ${m.text()}`));

      // Sign in: a wrong key is refused with one clear line, the right one opens the overview (by keyboard).
      await page.goto(`${url}/`);
      await page.getByLabel('Owner key').waitFor();
      await shot(page, '01-sign-in');
      await page.getByLabel('Owner key').fill('dsok_not-the-key');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: 'That key was not accepted' }).waitFor();
      assert.equal(await page.getByLabel('Owner key').getAttribute('aria-invalid'), 'true');
      await shot(page, '02-sign-in-refused');
      await page.getByLabel('Owner key').fill(bootstrap.ownerKey);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.getByRole('rowheader', { name: 'web-01' }).waitFor();
      await shot(page, '03-overview');

      // Recovery points with the chart (uPlot draws on a canvas).
      await nav('Recovery points').click();
      await page.locator('.chart-host canvas').first().waitFor();
      assert.equal(await page.getByRole('table', { name: 'Recovery points of web-01, newest first' }).locator('tbody tr').count(), 2);
      await page.getByText(/1 new, 0 changed files/).waitFor();
      await shot(page, '04-recovery-points');

      // Another subscription's (or no) job id in the URL: not found.
      await page.goto(`${url}/jobs/00000000-0000-4000-8000-000000000000`);
      await page.getByRole('heading', { name: 'Not found' }).waitFor();

      // A job's hooks: the command, how it ended and its output, as text (markup in it is not markup).
      await page.goto(`${url}/jobs/${second.id}`);
      const hooks = page.getByRole('region', { name: 'Hooks' });
      await hooks.waitFor();
      assert.match((await hooks.getByRole('heading', { level: 3 }).textContent()) ?? '', /^Post hook: echo "snapshot <b>dropped<\/b>"/);
      assert.equal(
        await hooks.locator('[data-field="hook-outcome"]').textContent(),
        `exited with status 0 in ${(second.hooks.post.durationMs / 1000).toFixed(1)} s`,
      );
      assert.equal(await hooks.locator('[data-field="hook-output"]').textContent(), 'snapshot <b>dropped</b>\nlvremove done\n');
      assert.equal(await hooks.locator('b').count(), 0);
      await shot(page, '04b-job-hooks');

      // The import job, followed in the page.
      await nav('Import jobs').click();
      const row = (name: string) => page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
      await row('delta-later').locator('.kind').waitFor();
      assert.equal(await row('delta-later').locator('.kind').textContent(), 'delta');
      assert.equal(await row('seed-main').locator('.kind').count(), 0, 'a seed has no label');
      await page.getByRole('link', { name: 'seed-main' }).click();
      await page.getByRole('heading', { name: /Import job seed-main/ }).waitFor();
      const currentStep = page.locator('.timeline [aria-current="step"] .step');
      assert.equal(await currentStep.textContent(), 'Creating');
      await page.getByText(/Shipping details must be entered by/).waitFor();
      await shot(page, '05-import-job-creating');

      // Shipping details: a bad field and a taken tracking number are marked with the service's message.
      const form = page.getByRole('form', { name: 'Shipping details' });
      for (const [field, value] of Object.entries({ ...shippingDetails('TRK-TAKEN-1'), email: 'not-an-email' })) {
        await form.locator(`[name="${field}"]`).fill(value);
      }
      await form.getByRole('button', { name: 'Save shipping details' }).click();
      await form
        .locator('#email-error')
        .filter({ hasText: /must match pattern/ })
        .waitFor();
      assert.equal(await form.locator('[name="email"]').getAttribute('aria-invalid'), 'true');
      await form.locator('[name="email"]').fill('admin@example.org');
      await form.getByRole('button', { name: 'Save shipping details' }).click();
      await form
        .locator('#trackingNumber-error')
        .filter({ hasText: /belongs to another import job/ })
        .waitFor();
      assert.equal(await form.locator('[name="trackingNumber"]').getAttribute('aria-invalid'), 'true');
      assert.equal(await form.locator('[name="email"]').getAttribute('aria-invalid'), null);
      await shot(page, '06-shipping-duplicate-refused');
      await form.locator('[name="trackingNumber"]').fill('TRK-E2E-1');
      await form.getByRole('button', { name: 'Save shipping details' }).click();
      await page.locator('.timeline [aria-current="step"] .step').filter({ hasText: 'Shipping' }).waitFor();
      await page.getByText(/Drives must arrive by/).waitFor();

      // The data centre receives the drives, one tampered: the open page moves on by itself.
      await tamperDrive(seed.paths[0]);
      const received = await cliAwait(['datacenter', 'receive', '--data-dir', dataDir, '--job', 'seed-main', '--drive', ...seed.paths, '--json']);
      assert.equal(received.code, 0, received.stderr);
      await page.locator('.timeline [aria-current="step"] .step').filter({ hasText: 'Packaging' }).waitFor();
      const badDrive = (JSON.parse(received.stdout) as { drives: { driveId: string; state: string }[] }).drives.find((d) => d.state === 'CompletedMoreInfo')!;
      await page
        .getByRole('row', { name: new RegExp(badDrive.driveId) })
        .locator('.drive-states [aria-current="step"]')
        .filter({ hasText: 'CompletedMoreInfo' })
        .waitFor();
      await page.getByRole('button', { name: `Show logs of drive ${badDrive.driveId}` }).click();
      await page
        .getByLabel('Error log')
        .filter({ hasText: /block 0: block does not decrypt/ })
        .waitFor();
      await shot(page, '07-import-job-drive-error-log');
      const shipped = await cliAwait(['datacenter', 'ship-back', '--data-dir', dataDir, '--job', 'seed-main']);
      assert.match(shipped.stdout, /the job is Closed/);
      await page.locator('.timeline [aria-current="step"] .step').filter({ hasText: 'Closed' }).waitFor();
      await shot(page, '08-import-job-closed');

      // A job still in Creating can be canceled, after a second click.
      await nav('Import jobs').click();
      await page.getByRole('link', { name: 'seed-unwanted' }).click();
      await page.getByRole('button', { name: 'Cancel this import job…' }).click();
      await page.getByRole('button', { name: 'Yes, cancel it' }).click();
      await page.locator('.timeline [aria-current="step"] .step').filter({ hasText: 'Canceled' }).waitFor();
      assert.equal(await page.getByRole('form', { name: 'Shipping details' }).count(), 0);
      await shot(page, '08b-import-job-canceled');

      // A slow backup: its progress shows live, and the page rides out a service restart.
      const big = join(dir, 'big');
      await mkdir(big);
      // 40 MiB at 2 MiB/s: three packs, the first stored after about 8 s, the last after about 20 s.
      for (let i = 0; i < 40; i++) await writeFile(join(big, `part${String(i).padStart(2, '0')}`), randomBytes(1024 * 1024));
      assert.equal(cli(['agent', 'protect', big, '--limit-upload', '2M'], env).code, 0);
      const running = cliAsync(['agent', 'backup-now', '--json'], env);
      let backupOut = '';
      running.stdout!.on('data', (c) => (backupOut += c));
      const backupDone = new Promise<number>((resolve) => running.once('exit', (code) => resolve(code ?? -1)));
      await nav('Backup jobs').click();
      await page.getByRole('row').filter({ hasText: 'InProgress' }).getByRole('link').click();
      await page.locator('[data-field="progress-files"]').filter({ hasText: '40' }).waitFor();
      // Sent bytes grow as packs are stored, while the job still runs (the figure is only shown then), without a reload.
      await page.waitForFunction(() => Number(document.querySelector('[data-field="progress-sent"]')?.getAttribute('data-bytes')) > 1024 * 1024);
      await shot(page, '09-backup-live-progress');

      await stopProcess(service);
      await page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor();
      await shot(page, '10-reconnecting');
      service = await startServiceProcess(dataDir, port);
      await page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'detached' });
      assert.equal(await backupDone, 0, backupOut);
      await page
        .getByRole('heading', { name: /Backup of web-01/ })
        .locator('.state-Completed')
        .waitFor();
      await page.getByText('40 new, 0 changed, 0 unchanged').waitFor();
      await shot(page, '11-backup-completed');

      // A command item: the overview shows it beside the paths, with the size it last stored.
      assert.equal(cli(['agent', 'protect', '--item', 'sales-db', '--command', 'printf 12345'], env).code, 0);
      assert.equal(json(cli(['agent', 'backup-now', '--json'], env)).state, 'Completed');
      await nav('Overview').click();
      const itemsCell = page.getByRole('row', { name: /web-01/ }).locator('[data-field="command-items"]');
      await itemsCell.filter({ hasText: 'sales-db' }).waitFor();
      assert.equal(await itemsCell.textContent(), 'sales-db 5 B');
      await shot(page, '11b-overview-command-items');

      // What needs attention, on a phone-sized screen without sideways scrolling.
      await page.setViewportSize({ width: 390, height: 844 });
      await nav('Overview').click();
      await page.getByRole('link', { name: new RegExp(`Drive ${badDrive.driveId} of seed-main was imported with errors`) }).waitFor();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scrolling at 390 px');
      await shot(page, '12-overview-narrow');
      await page.setViewportSize({ width: 1280, height: 900 });

      // Sign out; the operator's key opens the data centre view.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Owner key').fill(bootstrap.operatorKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Data centre' }).waitFor();
      await page
        .getByRole('row', { name: /seed-other/ })
        .filter({ hasText: 'TRK-TAKEN-1' })
        .waitFor();
      await page
        .getByRole('heading', { name: /seed-main/ })
        .locator('.state-Closed')
        .waitFor();
      await shot(page, '13-datacenter');

      assert.deepEqual(problems, []);
    },
  );
});
