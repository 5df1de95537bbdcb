import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallerSlots } from './caller-slots.js';

async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('caller slots', () => {
  it("holds a caller to its slots, hands a freed one to its next waiter, and never touches another caller's", async () => {
    const slots = new CallerSlots(2);
    const frees = [await slots.acquire('a'), await slots.acquire('a')];
    const third = slots.acquire('a');
    assert.equal(await settled(third), false);
    assert.equal(slots.tryAcquire('a'), undefined, 'no newcomer passes the waiter');
    assert.ok(slots.tryAcquire('b'), 'another caller has slots of its own');
    frees[0]!();
    frees[0]!();
    assert.equal(await settled(third), true);
    assert.deepEqual(slots.count('a'), { open: 2, queued: 0 }, 'the freed slot was handed over, and freeing twice frees once');
    (await third)();
    frees[1]!();
    assert.deepEqual(slots.count('a'), { open: 0, queued: 0 });
    assert.throws(() => new CallerSlots(0), RangeError);
  });
});
