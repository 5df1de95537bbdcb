import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDriveseedError } from '../../core/errors.js';
import type { ImportJob, ShippingDetails } from '../../api/schemas.js';
import type { Prompter } from './diskprep.js';
import { updateShipping } from './shipping.js';

const GOOD: ShippingDetails = {
  carrier: 'DHL',
  trackingNumber: 'TRK-1',
  shipDate: '2026-11-25',
  contactName: 'A. Admin',
  phone: '+31 20 123 4567',
  email: 'admin@example.org',
  returnAddress: 'Dam 1, Amsterdam',
  country: 'NL',
  postalCode: '1012 JS',
};

/** Answers in order, as a user types them; records what was asked and said, in order. */
function scripted(answers: string[]): Prompter & { transcript: string[] } {
  const transcript: string[] = [];
  return {
    interactive: true,
    transcript,
    async ask(question) {
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`no answer scripted for ${question}`);
      transcript.push(`${question}${answer}`);
      return answer;
    },
    say(line) {
      transcript.push(line);
    },
  };
}

async function staging(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'driveseed-shipping-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'job1'));
  return dir;
}

describe('shipping details (issue 18: each answer checked as it is typed)', () => {
  it('asks again at once for an answer the service would refuse, with the rule in words', async (t) => {
    const sent: ShippingDetails[] = [];
    const api = { setShipping: async (_job: string, d: ShippingDetails) => (sent.push(d), {} as ImportJob) };
    const prompter = scripted([
      'DHL',
      'TRK 1',
      'TRK-1',
      '25-11-2026',
      '2026-11-25',
      'A. Admin',
      'call me',
      '+31 20 123 4567',
      'admin',
      'admin@example.org',
      'Dam 1, Amsterdam',
      'nl',
      'NL',
      '',
      '1012 JS',
      'yes',
    ]);
    await updateShipping({ staging: await staging(t), jobName: 'job1', given: {}, yes: false, prompter, api });
    assert.deepEqual(sent, [GOOD]);
    const said = prompter.transcript;
    // The complaint comes straight after the answer it is about, and the same question follows.
    const at = (line: string) => said.indexOf(line);
    assert.equal(said[at('Tracking number: TRK 1') + 1], '  "TRK 1" is not a tracking number of 4 to 50 letters, digits or hyphens; please try again');
    assert.equal(said[at('Tracking number: TRK 1') + 2], 'Tracking number: TRK-1');
    assert.equal(said[at('Ship date (YYYY-MM-DD): 25-11-2026') + 1], '  "25-11-2026" is not a date written YYYY-MM-DD, such as 2026-11-25; please try again');
    assert.equal(said[at('Phone: call me') + 1], '  "call me" is not a phone number of 5 to 30 digits, spaces, +, ( ) or -; please try again');
    assert.equal(said[at('Email: admin') + 1], '  "admin" is not an email address such as name@example.org; please try again');
    assert.equal(said[at('Country (two letters, e.g. NL): nl') + 1], '  "nl" is not a country code of two capital letters, such as NL; please try again');
    assert.equal(said[at('Postal code: ') + 1], '  Postal code is needed: a postal code of 1 to 20 characters; please try again');
    assert.ok(!said.some((line) => /must match pattern|body\//.test(line)), said.join('\n'));
  });

  it('a flag the service would refuse is named at once, before any question, and nothing is sent', async (t) => {
    const api = { setShipping: async () => assert.fail('nothing may be sent') };
    const prompter = scripted([]);
    await assert.rejects(
      updateShipping({ staging: await staging(t), jobName: 'job1', given: { ...GOOD, shipDate: '2026/11/25' }, yes: true, prompter, api }),
      (e) => isDriveseedError(e, 'USAGE') && (e as Error).message === '--ship-date: "2026/11/25" is not a date written YYYY-MM-DD, such as 2026-11-25',
    );
    assert.deepEqual(prompter.transcript, []);
  });
});
