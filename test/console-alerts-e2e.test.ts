import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { startService } from '../src/service/start-service.js';
import { launchChromium } from '../src/testing/chromium.js';
import { cliAwait, json, PASSWORD, tempDir } from './cli-harness.js';

const SCREENSHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname;

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe('web console in headless Chromium: expiry and alerts', () => {
  it('shows when each recovery point expires under the keep rules, and the alerts raised and resolved', { timeout: 300_000 }, async (t) => {
    const dir = await tempDir(t, 'console-alerts-');
    // In this process, so the test says when an alert round runs; the service keeps the real clock (tokens need it).
    const service = await startService({ dataDir: join(dir, 'service'), listen: '127.0.0.1:0', alertIntervalSeconds: 0, importWorker: false });
    t.after(() => service.stop());
    const { subscriptionId, ownerKey } = service.bootstrap!;
    const settings = join(dir, 'publish.json');
    await writeFile(settings, JSON.stringify({ version: 1, serviceUrl: service.url, subscriptionId, ownerKey }));
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, PASSWORD);
    const agent = async (home: string, args: string[], now?: string) => {
      const r = await cliAwait(args, { DRIVESEED_HOME: join(dir, home), DRIVESEED_PASSWORD: PASSWORD, TZ: 'UTC', ...(now ? { DRIVESEED_NOW: now } : {}) });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r;
    };

    // web-01: a backup a day on three days, keeping the last two days' points.
    await agent('web', ['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--name', 'web-01']);
    const data = join(dir, 'data');
    await writeSampleTree(data, 4, 30);
    await agent('web', ['agent', 'protect', data, '--keep-daily', '2']);
    for (const day of ['2026-03-01', '2026-03-02', '2026-03-03']) {
      await writeFile(join(data, `${day}.txt`), day);
      await agent('web', ['agent', 'backup-now'], `${day}T02:00:00Z`);
    }
    // db-01: its pre hook fails, so its backup does, and it has no recovery point.
    await agent('db', ['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--name', 'db-01']);
    await agent('db', ['agent', 'protect', data, '--pre-hook', 'exit 3']);
    const failed = await cliAwait(['agent', 'backup-now', '--json'], { DRIVESEED_HOME: join(dir, 'db'), DRIVESEED_PASSWORD: PASSWORD });
    assert.equal(failed.code, 1);
    const round = await service.alerts.runOnce();
    assert.equal(round.raised, 2);

    const chromium = await launchChromium();
    t.after(() => chromium.close());
    const page = await chromium.context.newPage();
    page.setDefaultTimeout(60_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(`console: ${m.text()}`));
    const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
    await page.goto(`${service.url}/`);
    await page.getByLabel('Owner key').fill(ownerKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    // The Expires column: the day-one point was forgotten; with one backup a day from the newest
    // on, 03-02's point goes at the 03-04 backup and 03-03's at the 03-05 one.
    await nav('Recovery points').click();
    await page.getByRole('link', { name: 'web-01' }).click();
    const table = page.getByRole('table', { name: 'Recovery points of web-01, newest first' });
    await table.waitFor();
    await page.getByText('Retention: --keep-daily 2').waitFor();
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelectorAll('td')[4].textContent]));
    assert.deepEqual(rows, [
      ['2026-03-03 02:00:00 UTC', '2026-03-05 02:00:00 UTC'],
      ['2026-03-02 02:00:00 UTC', '2026-03-04 02:00:00 UTC'],
    ]);
    const expiresHeader = await table.locator('thead th').nth(5).textContent();
    assert.equal(expiresHeader, 'Expires');
    await shot(page, 'alerts-01-recovery-points-expires');

    // The alerts list: db-01's two open alerts, each linking to its failed job.
    await nav('Alerts').click();
    const open = page.getByRole('table', { name: 'Open alerts, newest first' });
    await open.waitFor();
    assert.equal(await open.locator('tbody tr').count(), 2);
    await open
      .getByRole('row')
      .filter({ hasText: 'backup-failed' })
      .filter({ hasText: /The last backup of db-01 failed: .*pre hook/ })
      .waitFor();
    await open.getByRole('row').filter({ hasText: 'no-recovery-point' }).filter({ hasText: 'db-01 in vault main has no recovery point' }).waitFor();
    await shot(page, 'alerts-02-open');
    await open.getByRole('link', { name: /The last backup of db-01 failed/ }).click();
    await page.getByRole('heading', { name: /Backup of db-01/ }).waitFor();

    // db-01's hook is fixed and it backs up: at the next round both clear, the open list empties,
    // and "show resolved" shows them with when.
    await agent('db', ['agent', 'protect', '--no-pre-hook']);
    await agent('db', ['agent', 'backup-now']);
    assert.equal((await service.alerts.runOnce()).resolved, 2);
    await nav('Alerts').click();
    await page.getByText('No open alerts.').waitFor();
    await page.getByLabel('Show resolved alerts too').check();
    const all = page.getByRole('table', { name: 'Alerts, newest first' });
    await all.waitFor();
    const resolved = await all.locator('tbody tr td:last-child').allTextContents();
    assert.equal(resolved.length, 2);
    for (const at of resolved) assert.match(at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await shot(page, 'alerts-03-resolved');
    assert.deepEqual(problems, []);
    assert.equal(json(await agent('web', ['agent', 'recovery-points', '--json'])).recoveryPoints.length, 2);
  });
});
