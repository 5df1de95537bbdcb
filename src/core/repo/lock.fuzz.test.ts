import { it } from 'node:test';
import { fuzz } from '../../testing/fuzz.js';
import { decodeLock, isStale } from './lock.js';
import { parseJson } from './sealed-file.js';

it('fuzz: a lock payload decodes to a lock whose staleness can be judged, or a DriveseedError', () => {
  const lock = { exclusive: false, hostname: 'host', pid: 4242, command: 'backup', time: new Date().toISOString() };
  fuzz({
    name: 'lock',
    samples: [Buffer.from(JSON.stringify(lock)), Buffer.from(JSON.stringify({ ...lock, exclusive: true }))],
    decode: (input) => isStale(decodeLock(parseJson(input, 'lock'), 'lock')),
  });
});
