import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDriveseedError } from '../errors.js';
import { RateSchedule } from './rate-schedule.js';

/** A local time: 2026-12-07 is a Monday. */
const at = (day: number, hh: number, mm = 0) => new Date(2026, 11, 7 + day, hh, mm);
const MON = 0;
const FRI = 4;
const SAT = 5;

describe('bandwidth schedules', () => {
  it('a rate alone is that rate at all times', () => {
    const s = RateSchedule.parse('2M');
    assert.equal(s.constantRate, 2_000_000);
    assert.equal(s.rateAt(at(SAT, 3)), 2_000_000);
  });

  it('the first rule that matches the local time wins; days and hours go in either order', () => {
    for (const text of ['Mon-Fri 08:00-18:00=2M, *=20M', '08:00-18:00 Mon-Fri=2M, *=20M']) {
      const s = RateSchedule.parse(text);
      assert.equal(s.constantRate, undefined);
      assert.equal(s.rateAt(at(MON, 8)), 2_000_000, text);
      assert.equal(s.rateAt(at(FRI, 17, 59)), 2_000_000);
      assert.equal(s.rateAt(at(FRI, 18)), 20_000_000, 'the end is exclusive');
      assert.equal(s.rateAt(at(MON, 7, 59)), 20_000_000);
      assert.equal(s.rateAt(at(SAT, 12)), 20_000_000);
    }
    assert.equal(RateSchedule.parse('Mon-Fri 08:00-18:00=2M, *=20M').text, 'Mon-Fri 08:00-18:00=2M, *=20M');
  });

  it('no matching rule, or off, is no limit; a range past midnight belongs to the day it starts on; a day range may wrap', () => {
    const night = RateSchedule.parse('Fri 22:00-06:00=off, 00:00-24:00=1M');
    assert.equal(night.rateAt(at(FRI, 23)), undefined);
    assert.equal(night.rateAt(at(SAT, 5, 59)), undefined, 'Friday night runs into Saturday morning');
    assert.equal(night.rateAt(at(SAT, 6)), 1_000_000);
    assert.equal(night.rateAt(at(MON, 5)), 1_000_000, "Sunday's night is not Friday's");
    const weekend = RateSchedule.parse('Sat-Sun=10M');
    assert.equal(weekend.rateAt(at(SAT + 1, 12)), 10_000_000);
    assert.equal(weekend.rateAt(at(MON, 12)), undefined);
    assert.equal(RateSchedule.parse('Fri-Mon=1M').rateAt(at(MON, 1)), 1_000_000);
  });

  it('refuses what it cannot read with one line that says which part and how to write it', () => {
    for (const [text, why] of [
      ['Mon-Fri 08:00-18:00', /has no =RATE/],
      ['Mon-Fri 08:00-18:00=2', /a rate needs a unit/],
      ['Someday=2M', /"Someday" is not a day/],
      ['Mon 25:00-26:00=1M', /is not a time range/],
      ['Mon 08:00-08:00=1M', /is not a time range/],
      ['Mon Tue=1M', /two day ranges/],
      ['20', /a rate needs a unit/],
    ] as const) {
      assert.throws(
        () => RateSchedule.parse(text),
        (e) => isDriveseedError(e, 'USAGE') && why.test((e as Error).message) && !(e as Error).message.includes('\n'),
        `${text}: ${(() => {
          try {
            RateSchedule.parse(text);
            return 'accepted';
          } catch (e) {
            return (e as Error).message;
          }
        })()}`,
      );
    }
  });
});
