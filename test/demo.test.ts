import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, tempDir } from './cli-harness.js';

it('driveseed demo runs the whole seed workflow and ends with a verified restore', async (t) => {
  const work = join(await tempDir(t), 'demo');
  const r = cli(['demo', '--workdir', work]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const step of [
    'Waiting for import job to complete',
    'import job demo-seed created with 2 drives',
    'Completed, ',
    'seed: ',
    'the restore matches the source byte for byte',
    'took over server',
    'revoked 1 certificate of the lost machine',
    "the new machine's restore matches the source byte for byte",
    'export job demo-export created',
    'read back and verified',
    'came from the drives, 1 file',
    'the restore from the drives matches the source byte for byte',
  ]) {
    assert.ok(r.stdout.includes(step), `demo output lacks "${step}"`);
  }
});
