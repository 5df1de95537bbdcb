import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { encodeConfig, parseConfig, REPOSITORY_FORMAT } from './config.js';

it('fuzz: a config file decodes to a config with an id, or a DriveseedError', () => {
  const sample = (version: number) =>
    encodeConfig({ format: REPOSITORY_FORMAT, version, id: randomBytes(32).toString('hex'), created: new Date().toISOString() });
  fuzz({
    name: 'config',
    samples: [sample(1), sample(2)],
    decode: (input) => parseConfig(input, 'repo'),
    // The opener compares config.id with .slice(): a config without a string id must not get through.
    checkValue: (value) => assert.match((value as { id: unknown }).id as string, /^[0-9a-f]{64}$/),
  });
});
