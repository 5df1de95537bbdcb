import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { launchChromium } from '../src/testing/chromium.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { cli, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS } from './service-harness.js';

describe('web console: export jobs beside import jobs', () => {
  it(
    'lists an export job with its recovery point, state, deadline and tracking numbers, as it goes from Shipping to Completed',
    { timeout: 300_000 },
    async (t) => {
      const s = await setUpAgent(t, { data: async (dir) => void (await writeSampleTree(dir, 3, 20)) });
      assert.equal(cli(['agent', 'protect', s.data], s.env).code, 0);
      assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');
      const asked = json(cli(['agent', 'export', '--job', 'console-export', ...SHIPPING_FLAGS, '--tracking', 'EXP-WEB-1', '--json'], s.env));

      const chromium = await launchChromium();
      t.after(() => chromium.close());
      const page = await chromium.context.newPage();
      page.setDefaultTimeout(60_000);
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      await page.goto(`${s.url}/`);
      await page.getByLabel('Owner key').fill(s.bootstrap.ownerKey);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Export jobs' }).click();
      await page.getByRole('heading', { name: 'Export jobs' }).waitFor();
      const row = page
        .getByRole('table', { name: 'Export jobs' })
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: 'console-export' }) });
      await row.waitFor();
      const shipping = await row.innerText();
      assert.match(shipping, /Shipping/);
      assert.match(shipping, new RegExp(`${s.registered.name} / ${asked.snapshotId.slice(0, 8)}`));
      assert.match(shipping, new RegExp(`${asked.files} files`));
      assert.match(shipping, /blank drives must arrive by \d{4}-\d\d-\d\d/);
      assert.match(shipping, /EXP-WEB-1 \/ —/);
      assert.match(shipping, /none written yet/);

      const drive = join(s.dir, 'blank');
      await mkdir(drive);
      json(cli(['datacenter', 'export', '--job', 'console-export', '--drive', drive, '--data-dir', s.dataDir, '--json'], s.env));
      assert.equal(cli(['datacenter', 'ship-back', '--job', 'console-export', '--tracking', 'RET-WEB-1', '--data-dir', s.dataDir], s.env).code, 0);
      await page.reload();
      await row.filter({ hasText: 'Completed' }).waitFor();
      const done = await row.innerText();
      assert.match(done, /EXP-WEB-1 \/ RET-WEB-1/);
      assert.match(done, /[0-9a-f]{8} ShippedBack/);
      assert.deepEqual(problems, []);
    },
  );
});
