import { it } from 'node:test';
import { fuzz } from '../../testing/fuzz.js';
import { parseStagingRecord, STAGING_RECORD_FORMAT, STAGING_RECORD_VERSION, type StagingRecord } from './staging.js';

it('fuzz: a staging record decodes to a checked record or a DriveseedError', () => {
  const record: StagingRecord = {
    format: STAGING_RECORD_FORMAT,
    version: STAGING_RECORD_VERSION,
    jobName: 'seed-job',
    storageAccount: 'account',
    container: 'seed',
    serviceUrl: 'https://service.example',
    subscriptionId: 'sub-1',
    vault: 'vault-1',
    serverId: 'server-1',
    serverName: 'fileserver',
    createdAt: new Date().toISOString(),
    state: 'staged',
    snapshotId: 'a'.repeat(64),
    inTransitSnapshots: ['b'.repeat(64)],
  };
  fuzz({
    name: 'staging record',
    samples: [Buffer.from(JSON.stringify(record, null, 2)), Buffer.from(JSON.stringify({ ...record, version: 1, state: 'staging' }))],
    decode: (input) => parseStagingRecord(input.toString('utf8'), 'staging.json'),
  });
});
