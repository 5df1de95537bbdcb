import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket, type BucketClock } from './token-bucket.js';

/** A clock that only moves when the bucket sleeps: the test is exact and takes no time. */
function fakeClock(start = 0): BucketClock & { t: number } {
  const clock = {
    t: start,
    now: () => clock.t,
    sleep: (ms: number) => {
      clock.t += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

/** Takes `total` bytes in requests of `request` bytes, and records when each piece of 1 KiB was let through. */
async function send(bucket: TokenBucket, clock: { now(): number }, total: number, request: number): Promise<{ at: number; bytes: number }[]> {
  const log: { at: number; bytes: number }[] = [];
  for (let sent = 0; sent < total; sent += request) {
    await bucket.take(request);
    log.push({ at: clock.now(), bytes: request });
  }
  return log;
}

/** The most bytes let through in any window of `ms`. */
function busiestWindow(log: { at: number; bytes: number }[], ms: number): number {
  let best = 0;
  for (let i = 0; i < log.length; i++) {
    let sum = 0;
    for (let j = i; j < log.length && log[j].at - log[i].at < ms; j++) sum += log[j].bytes;
    best = Math.max(best, sum);
  }
  return best;
}

describe('token bucket', () => {
  it('a 16 MiB request goes in steps: no tenth of a second carries more than a tenth of the rate and one burst', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(() => 1_000_000, clock);
    const log: { at: number; bytes: number }[] = [];
    // One large take, observed piece by piece through the clock's sleeps.
    const sleep = clock.sleep;
    clock.sleep = (ms) => {
      log.push({ at: clock.t, bytes: 0 });
      return sleep(ms);
    };
    await bucket.take(16 * 1024 * 1024);
    assert.ok(clock.t >= 16.7e3 - 100 && clock.t <= 16.8e3 + 100, `16 MiB at 1 MB/s took ${clock.t} ms of the clock`);
    // Between two sleeps at most one burst (50 ms of the rate) went: the gaps are all small.
    const gaps = log.slice(1).map((e, i) => e.at - log[i].at);
    assert.ok(Math.max(...gaps) <= 50 + 1e-6, `largest step ${Math.max(...gaps)} ms`);
  });

  it('requests in a row keep to the rate over every window, with at most one burst (1/20 s) above it', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(() => 200_000, clock);
    const log = await send(bucket, clock, 2_000_000, 8192);
    assert.ok(busiestWindow(log, 1000) <= 200_000 + 10_000 + 8192, `busiest second ${busiestWindow(log, 1000)}`);
    assert.ok(busiestWindow(log, 100) <= 20_000 + 10_000 + 8192, `busiest tenth ${busiestWindow(log, 100)}`);
  });

  it('the rate changes when the clock crosses a schedule boundary, in the middle of one request', async () => {
    const clock = fakeClock(0);
    // 100 KB/s for the first 10 s of the clock, 1 MB/s after.
    const bucket = new TokenBucket((d) => (d.getTime() < 10_000 ? 100_000 : 1_000_000), clock);
    const log = await send(bucket, clock, 5_000_000, 4096);
    const inSecond = (s: number) => log.filter((e) => e.at >= s * 1000 && e.at < (s + 1) * 1000).reduce((n, e) => n + e.bytes, 0);
    const before = inSecond(5);
    const after = inSecond(12);
    assert.ok(before >= 90_000 && before <= 110_000, `second 5: ${before}`);
    assert.ok(after >= 950_000 && after <= 1_060_000, `second 12: ${after}`);
  });

  it('no limit at a time lets everything through at once; a limit after it starts with at most one burst', async () => {
    const clock = fakeClock(0);
    const bucket = new TokenBucket((d) => (d.getTime() < 1000 ? undefined : 10_000), clock);
    await bucket.take(50_000_000);
    assert.equal(clock.t, 0, 'nothing waited');
    clock.t = 1000;
    await bucket.take(10_000);
    // The burst is 4 KiB at the least: the rest, 5,904 bytes, waits 590 ms.
    assert.ok(clock.t >= 1590 && clock.t <= 1700, `10 kB at 10 kB/s after no limit: ${clock.t - 1000} ms`);
  });
});
