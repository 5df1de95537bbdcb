import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../src/testing/azurite.js';
import { startLink, type Link } from '../src/testing/link-emulator.js';
import { cliAwait as run, json, tempDir } from './cli-harness.js';
import { startServiceProcess, stopProcess } from './service-harness.js';

const MB = 1_000_000;
/** Incompressible: the pack on the wire is as large as the file. */
const DATA_BYTES = 8 * MB;

/**
 * Samples a byte counter of the link while `work` runs, and returns the most bytes seen to
 * pass in any window of `windowMs`, as a share of all the bytes that passed. Shares, not
 * rates: a loaded machine makes the run slower, never the share of a window larger, unless the
 * limit lets a burst through — a pack sent whole lands in one window with nearly all of it.
 */
async function busiestShare(counter: () => number, windowMs: number, work: () => Promise<void>): Promise<{ share: number; total: number }> {
  const samples: { t: number; bytes: number }[] = [];
  const start = counter();
  const sample = () => samples.push({ t: performance.now(), bytes: counter() - start });
  sample();
  const timer = setInterval(sample, 50);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  sample();
  const total = samples.at(-1)!.bytes;
  let busiest = 0;
  for (let i = 0, j = 0; i < samples.length; i++) {
    while (j + 1 < samples.length && samples[j + 1].t - samples[i].t <= windowMs) j++;
    busiest = Math.max(busiest, samples[j].bytes - samples[i].bytes);
  }
  return { share: busiest / total, total };
}

describe('bandwidth limits through the link emulator (issue 18)', () => {
  it('backup-now --limit-upload overrides the policy and meters a pack as it goes; restore --limit-download meters what arrives', async (t) => {
    const dir = await tempDir(t);
    const dataDir = join(dir, 'service');
    const port = await freePort();
    const link: Link = await startLink({ target: `http://127.0.0.1:${port}`, latencyMs: 0 });
    t.after(() => link.close());
    const service = await startServiceProcess(dataDir, port, ['--public-url', link.url]);
    t.after(() => stopProcess(service));
    const bootstrap = JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8'));
    const env = { DRIVESEED_HOME: join(dir, 'agent'), DRIVESEED_DIRECT_BLOBS: 'off' };
    const settings = join(dir, 'publish.json');
    const publish = ['service', 'publish-settings', '--service', link.url, '--subscription', bootstrap.subscriptionId, '--owner-key', bootstrap.ownerKey];
    assert.equal((await run([...publish, '--out', settings], env)).code, 0);
    assert.equal((await run(['agent', 'register', '--publish-settings', settings, '--vault', 'main'], env)).code, 0);
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(data, 'big.bin'), randomBytes(DATA_BYTES));
    // The policy's schedule allows 50 MB/s (but in one minute of the night): a run under it would send the pack in a blink.
    const protect = await run(['agent', 'protect', data, '--limit-upload', 'Sun  03:00-03:01=1K,*=50M'], env);
    assert.equal(protect.code, 0, protect.stderr);
    assert.match(protect.stdout, /^upload limit: Sun 03:00-03:01=1K, \*=50M \(by the local time; the first matching rule wins\)$/m);
    // A rate for all times is kept as a number, as before schedules.
    assert.equal((await run(['agent', 'protect', '--limit-upload', '*=2M'], env)).code, 0);
    assert.equal(json(await run(['agent', 'policy', '--json'], env)).limitUpload, 2 * MB);
    assert.equal((await run(['agent', 'protect', '--limit-upload', 'Sun 03:00-03:01=1K, *=50M'], env)).code, 0);

    let backup: Awaited<ReturnType<typeof run>> | undefined;
    const up = await busiestShare(
      () => link.stats.bytesUp,
      2000,
      async () => void (backup = await run(['agent', 'backup-now', '--limit-upload', '1M', '--json'], env)),
    );
    assert.equal(backup!.code, 0, backup!.stderr);
    assert.equal(json(backup!).state, 'Completed');
    assert.ok(up.total >= DATA_BYTES, `only ${up.total} bytes went up`);
    // 8 MB at 1 MB/s: about a quarter in any two seconds. A pack sent whole puts ~all in one window.
    assert.ok(up.share <= 0.5, `${(up.share * 100).toFixed(0)} % of ${up.total} bytes went up within two seconds`);

    let restore: Awaited<ReturnType<typeof run>> | undefined;
    const down = await busiestShare(
      () => link.stats.bytesDown,
      2000,
      async () => void (restore = await run(['agent', 'restore', 'latest', '--target', join(dir, 'restored'), '--limit-download', '1M'], env)),
    );
    assert.equal(restore!.code, 0, restore!.stderr);
    assert.ok(down.total >= DATA_BYTES, `only ${down.total} bytes came down`);
    assert.ok(down.share <= 0.5, `${(down.share * 100).toFixed(0)} % of ${down.total} bytes came down within two seconds`);
    assert.ok((await readFile(join(dir, 'restored', data, 'big.bin'))).length === DATA_BYTES);
  });

  it('refuses a schedule it cannot read before changing anything', async (t) => {
    const dir = await tempDir(t);
    const r = await run(['agent', 'protect', dir, '--limit-upload', 'Mon-Fri 08:00-18:00'], { DRIVESEED_HOME: join(dir, 'agent') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^driveseed: not a bandwidth schedule: "Mon-Fri 08:00-18:00" \("Mon-Fri 08:00-18:00" has no =RATE\) \(write a rate/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
