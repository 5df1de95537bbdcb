#!/usr/bin/env node
// The web console's first page on loopback: time until the sign-in form is usable and until
// the overview is rendered (median of several cold-cache loads in headless Chromium), and
// the gzipped size of what the first page loads. Run after `npm ci` (or `npm run build`):
//   node bench/console-bench.mjs [runs]
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const { startService } = await import(join(root, 'dist/src/service/start-service.js'));
const { launchChromium } = await import(join(root, 'dist/src/testing/chromium.js'));
const runs = Number(process.argv[2] ?? 7);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

async function firstPageBytes() {
  const web = join(root, 'dist/web');
  const html = await readFile(join(web, 'index.html'), 'utf8');
  const urls = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  let raw = Buffer.byteLength(html);
  let gz = gzipSync(html, { level: 9 }).length;
  for (const url of urls) {
    const body = await readFile(join(web, url));
    raw += body.length;
    gz += gzipSync(body, { level: 9 }).length;
  }
  let all = 0;
  for (const name of await readdir(join(web, 'assets'))) all += gzipSync(await readFile(join(web, 'assets', name)), { level: 9 }).length;
  return { files: urls.length + 1, raw, gz, allAssetsGz: all };
}

const dir = await mkdtemp(join(tmpdir(), 'console-bench-'));
const service = await startService({ dataDir: dir, listen: '127.0.0.1:0' });
const chromium = await launchChromium();
const signInTimes = [];
const overviewTimes = [];
try {
  const page = await chromium.context.newPage();
  const cdp = await chromium.context.newCDPSession(page);
  await cdp.send('Network.enable');
  for (let i = 0; i < runs + 1; i++) {
    await cdp.send('Network.clearBrowserCache');
    await chromium.context.clearCookies();
    // Navigation start → the key field is on screen and enabled (React has rendered the form).
    await page.goto(`${service.url}/`, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.querySelector('#key:not([disabled])'), null, { polling: 'raf' });
    const signIn = await page.evaluate(() => performance.now());
    await page.fill('#key', service.bootstrap.ownerKey);
    await page.click('button[type=submit]');
    await page.waitForSelector('#overview-title');
    // Signed in, cold cache again: navigation start → the overview's figures are rendered.
    await cdp.send('Network.clearBrowserCache');
    await page.goto(`${service.url}/`, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.querySelector('#overview-title') && document.querySelector('.figures'), null, { polling: 'raf' });
    const overview = await page.evaluate(() => performance.now());
    if (i > 0) {
      // The first run warms the service (JIT, SQLite pages), as a running service is.
      signInTimes.push(signIn);
      overviewTimes.push(overview);
    }
  }
} finally {
  await chromium.close();
  await service.stop();
  await rm(dir, { recursive: true, force: true });
}

const size = await firstPageBytes();
console.log(`console first page on loopback, median of ${runs} cold-cache loads (headless Chromium, ${process.arch}):`);
console.log(
  `  navigation start → sign-in form usable:  ${median(signInTimes).toFixed(0)} ms  (min ${Math.min(...signInTimes).toFixed(0)}, max ${Math.max(...signInTimes).toFixed(0)})`,
);
console.log(
  `  navigation start → overview rendered:    ${median(overviewTimes).toFixed(0)} ms  (min ${Math.min(...overviewTimes).toFixed(0)}, max ${Math.max(...overviewTimes).toFixed(0)})`,
);
console.log(`first page bundle (index.html + ${size.files - 1} assets): ${kb(size.gz)} gzipped, ${kb(size.raw)} raw (goal: under 300 KB gzipped)`);
console.log(`all console assets, incl. the lazy chart page: ${kb(size.allAssetsGz)} gzipped`);
