import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { isId } from './ids.js';
import { parseJournal, type JournaledPack } from './pack-journal.js';

it('fuzz: a pack journal gives only well-formed packs, whatever its bytes', () => {
  const line = () => `${randomBytes(32).toString('hex')} ${1000 + Math.floor(Math.random() * 1e7)}\n`;
  fuzz({
    name: 'pack journal',
    samples: [Buffer.from(line() + line() + line()), Buffer.from(line())],
    decode: (input) => parseJournal(input.toString('utf8')),
    checkValue: (value) => {
      for (const pack of value as JournaledPack[]) assert.ok(isId(pack.id) && Number.isSafeInteger(pack.size) && pack.size > 0);
    },
  });
});
