import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDriveseedError } from '../../core/errors.js';
import { parseLinkSpeed } from '../../core/util/units.js';
import { estimateSeed } from './ship-or-upload.js';

async function tree(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'estimate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'random'));
  await mkdir(join(dir, 'text'));
  for (let i = 0; i < 4; i++) await writeFile(join(dir, 'random', `r${i}`), randomBytes(8 * 1024 * 1024));
  for (let i = 0; i < 20; i++) await writeFile(join(dir, 'text', `t${i}.log`), `line ${i}: the same words again and again\n`.repeat(40_000));
  return dir;
}

describe('ship or upload', () => {
  it('sizes the first backup from a sample: random data stays its size, text shrinks', async (t) => {
    const dir = await tree(t);
    const random = await estimateSeed({ paths: [join(dir, 'random')], bandwidth: 1e6 });
    assert.equal(random.bytes, 32 * 1024 * 1024);
    assert.ok(random.ratio > 0.99 && random.ratio < 1.01, `random data ratio ${random.ratio}`);
    const text = await estimateSeed({ paths: [join(dir, 'text')], bandwidth: 1e6 });
    assert.ok(text.ratio < 0.05, `text ratio ${text.ratio}`);
    const both = await estimateSeed({ paths: [dir], excludes: ['*.log'], bandwidth: 1e6 });
    assert.equal(both.bytes, 32 * 1024 * 1024, 'excluded files are not counted');
  });

  it('advises drives when the link would take longer than shipping, and the link otherwise', async (t) => {
    const dir = await tree(t);
    const thin = await estimateSeed({ paths: [join(dir, 'random')], bandwidth: 10, shippingDays: 1 });
    assert.equal(thin.advice, 'ship');
    assert.ok(thin.upload.seconds > thin.ship.seconds);
    const fast = await estimateSeed({ paths: [join(dir, 'random')], bandwidth: 1e9, shippingDays: 1 });
    assert.equal(fast.advice, 'upload');
    await assert.rejects(
      estimateSeed({ paths: [join(dir, 'nowhere')], bandwidth: 1e6 }),
      (e) => isDriveseedError(e, 'USAGE') && /is not there/.test((e as Error).message),
    );
  });

  it('reads link speeds in bits or bytes', () => {
    assert.equal(parseLinkSpeed('20Mbit'), 2.5e6);
    assert.equal(parseLinkSpeed('100 Mbit/s'), 12.5e6);
    assert.equal(parseLinkSpeed('1Gbps'), 125e6);
    assert.equal(parseLinkSpeed('2MB/s'), 2e6);
    assert.throws(
      () => parseLinkSpeed('fast'),
      (e) => isDriveseedError(e, 'USAGE'),
    );
  });
});
