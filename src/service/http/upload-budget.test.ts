import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UploadBudget } from './upload-budget.js';

/** Whether a promise has settled by the time pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('upload budget', () => {
  it('holds the bytes that arrived, not what a body declared', async () => {
    const budget = new UploadBudget({ capacity: 100 });
    const lease = await budget.open('a');
    assert.equal(lease.tryTake(1), true);
    assert.equal(budget.inUse, 1);
    assert.equal(budget.heldBy('a'), 1);
    lease.release();
    lease.release();
    assert.equal(budget.inUse, 0, 'given back once however often release is called');
  });

  it("keeps a caller to its share while other callers' bytes go through", async () => {
    const budget = new UploadBudget({ capacity: 100, perCaller: 30 });
    const greedy = await budget.open('attacker');
    const other = await budget.open('attacker');
    assert.equal(greedy.tryTake(30), true);
    assert.equal(other.tryTake(1), false, 'the attacker is at its share');
    // `greedy` holds its bytes and is not waiting (a stalled client): nothing lets `other` past.
    const blocked = other.take(1);
    assert.equal(await settled(blocked), false);
    const victim = await budget.open('victim');
    assert.equal(victim.tryTake(30), true, "the victim's bytes do not wait for the attacker's");
    greedy.release();
    assert.equal(await settled(blocked), true, 'room the caller gives back goes to its waiting body');
    assert.equal(budget.heldBy('attacker'), 1);
  });

  it('gives a caller a fixed number of upload slots; more wait for one of its own', async () => {
    const budget = new UploadBudget({ capacity: 100, streamsPerCaller: 2 });
    const held = [await budget.open('attacker'), await budget.open('attacker')];
    const third = budget.open('attacker');
    assert.equal(await settled(third), false);
    assert.deepEqual(budget.uploadsOf('attacker'), { open: 2, queued: 1 });
    assert.equal(await settled(budget.open('victim')), true, 'another caller has slots of its own');
    held[0]!.release();
    assert.equal(await settled(third), true);
    assert.deepEqual(budget.uploadsOf('attacker'), { open: 2, queued: 0 });
  });

  it('lets the oldest body past its share when all of its caller’s bodies wait on each other, and only that one', async () => {
    const budget = new UploadBudget({ capacity: 1000, perCaller: 100 });
    const older = await budget.open('agent');
    const younger = await budget.open('agent');
    assert.equal(older.tryTake(50), true);
    assert.equal(younger.tryTake(50), true);
    const youngerWaits = younger.take(10);
    assert.equal(await settled(youngerWaits), false, '`older` holds memory and is still receiving');
    const olderGoesOn = older.take(10);
    assert.equal(await settled(olderGoesOn), true, 'both waited: the older one goes past the share');
    assert.equal(await settled(youngerWaits), false);
    assert.equal(older.tryTake(10), false, 'past the share it takes only what waiting lets it');
    assert.equal(await settled(older.take(10)), true, 'and goes on as the others still wait');
    older.release();
    assert.equal(await settled(youngerWaits), true);
    assert.equal(budget.inUse, 60);
  });

  it('lets the oldest body past the whole budget only when every body in memory waits for room', async () => {
    const budget = new UploadBudget({ capacity: 100, perCaller: 100 });
    const a = await budget.open('a');
    const b = await budget.open('b');
    assert.equal(a.tryTake(50), true);
    assert.equal(b.tryTake(50), true);
    const bWaits = b.take(10);
    assert.equal(await settled(bWaits), false);
    const aGoesOn = a.take(10);
    assert.equal(await settled(aGoesOn), true);
    assert.equal(budget.inUse, 110);
    a.release();
    assert.equal(await settled(bWaits), true);
    b.release();
    assert.equal(budget.inUse, 0);
  });

  it('drops the waiting take of a released lease, and refuses budgets without room', async () => {
    const budget = new UploadBudget({ capacity: 10, perCaller: 10 });
    const holder = await budget.open('a');
    const waiter = await budget.open('b');
    assert.equal(holder.tryTake(10), true);
    const dropped = waiter.take(5);
    waiter.release();
    holder.release();
    assert.equal(await settled(dropped), false);
    assert.equal(budget.inUse, 0);
    assert.equal(budget.waitingForRoom, 0);
    assert.throws(() => new UploadBudget({ capacity: 0 }), RangeError);
    assert.throws(() => new UploadBudget({ capacity: 10, streamsPerCaller: 0 }), RangeError);
  });
});
