import { it } from 'node:test';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { decodeManifest, ENVELOPE_FORMAT, ENVELOPE_VERSION, parseHeader, type Manifest } from './envelope-format.js';

const driveId = randomUUID();

it('fuzz: a drive header decodes to a header or a DriveseedError', () => {
  const header = { format: ENVELOPE_FORMAT, version: ENVELOPE_VERSION, driveId, jobName: 'seed-job', createdAt: new Date().toISOString() };
  fuzz({ name: 'drive header', samples: [Buffer.from(JSON.stringify(header, null, 2))], decode: (input) => parseHeader(input.toString('utf8'), 'drive') });
});

it('fuzz: a manifest that opens decodes to a checked manifest or a DriveseedError', () => {
  // The owner of a drive knows its key and can seal any manifest, so the plaintext is what is fuzzed.
  const hex = (n: number) => randomBytes(n).toString('hex');
  const pack = hex(32);
  const manifest: Manifest = {
    version: ENVELOPE_VERSION,
    driveId,
    jobName: 'seed-job',
    files: [
      { name: 'config', length: 120, storedAs: 'payload/000000', blocks: [hex(16)] },
      { name: `data/${pack.slice(0, 2)}/${pack}`, length: 5 * 1024 * 1024, storedAs: 'payload/000001', blocks: [hex(16), hex(16)] },
      { name: `index/${createHash('sha256').update('x').digest('hex')}`, length: 0, storedAs: 'payload/000002', blocks: [hex(16)] },
    ],
  } as Manifest;
  fuzz({ name: 'manifest', samples: [Buffer.from(JSON.stringify(manifest))], decode: (input) => decodeManifest(input, driveId) });
});
