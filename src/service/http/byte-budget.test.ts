import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget } from './byte-budget.js';

/** Whether a promise has settled by the time the microtasks queued now have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('byte budget', () => {
  it('admits what fits at once and holds the rest until room is given back', async () => {
    const budget = new ByteBudget(100);
    const a = await budget.reserve(60);
    const b = budget.reserve(60);
    assert.equal(await settled(b), false);
    assert.equal(budget.waiting, 1);
    a();
    const releaseB = await b;
    assert.equal(budget.inUse, 60);
    releaseB();
    assert.equal(budget.inUse, 0);
  });

  it('serves waiters in order: a small body does not pass a large one that waits', async () => {
    const budget = new ByteBudget(100);
    const held = await budget.reserve(50);
    const large = budget.reserve(80);
    const small = budget.reserve(10);
    assert.equal(await settled(small), false, 'the small one would fit, but the large one came first');
    held();
    (await large)();
    (await small)();
    assert.equal(budget.inUse, 0);
  });

  it('lets a body larger than the whole budget in alone, once nothing else is held', async () => {
    const budget = new ByteBudget(100);
    const small = await budget.reserve(10);
    const huge = budget.reserve(500);
    assert.equal(await settled(huge), false);
    small();
    const releaseHuge = await huge;
    assert.equal(budget.inUse, 500);
    const next = budget.reserve(1);
    assert.equal(await settled(next), false);
    releaseHuge();
    (await next)();
  });

  it('gives room back once however often release is called', async () => {
    const budget = new ByteBudget(100);
    const a = await budget.reserve(70);
    a();
    a();
    assert.equal(budget.inUse, 0);
    const b = await budget.reserve(70);
    a();
    assert.equal(budget.inUse, 70);
    b();
  });

  it('refuses a capacity that is not positive', () => {
    assert.throws(() => new ByteBudget(0), RangeError);
  });
});
