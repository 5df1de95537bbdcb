import { it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { parseJson } from './sealed-file.js';
import { decodeSnapshot } from './snapshot.js';

it('fuzz: a snapshot payload decodes to a snapshot or a DriveseedError', () => {
  const snapshot = {
    version: 1,
    time: new Date().toISOString(),
    tree: randomBytes(32).toString('hex'),
    paths: ['/srv/data'],
    hostname: 'host',
    username: 'user',
    tags: ['daily'],
    excludes: ['*.tmp'],
    parent: randomBytes(32).toString('hex'),
    summary: { files: 3, dirs: 1, bytes: 1234, addedBytes: 100 },
  };
  fuzz({ name: 'snapshot', samples: [Buffer.from(JSON.stringify(snapshot))], decode: (input) => decodeSnapshot(parseJson(input, 'snapshot'), 'snapshot') });
});
