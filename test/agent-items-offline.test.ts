import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS } from './service-harness.js';

const JOB = 'seed-items';

describe('command items in an offline seed', () => {
  it('the first dump travels on the drives, the next one sends only its change, and the item restores', async (t) => {
    const s = await setUpAgent(t, { extra: ['--no-import-worker'] });
    // An incompressible 24 MiB "dump": what goes over the network is plainly not it.
    const dump = join(s.dir, 'dump.bin');
    await writeFile(dump, randomBytes(24 * 1024 * 1024));
    const staging = join(s.dir, 'staging');
    const protect = cli(
      [
        'agent',
        'protect',
        s.data,
        '--item',
        'db',
        '--command',
        `cat ${dump}`,
        '--offline',
        '--staging',
        staging,
        '--job',
        JOB,
        '--storage-account',
        'seedacct',
        '--container',
        'seeds',
      ],
      s.env,
    );
    assert.equal(protect.code, 0, protect.stderr);
    const first = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(first.state, 'Waiting');
    assert.equal(first.kind, 'offline');
    assert.ok(first.bytesRead >= 24 * 1024 * 1024, 'the item was read into the seed');
    assert.ok(first.traffic.sent < 20_000, `the offline backup sent ${first.traffic.sent} bytes over the network`);

    const drives = [join(s.dir, 'drive1'), join(s.dir, 'drive2')];
    for (const d of drives) await mkdir(d);
    const prep = cli(
      ['diskprep', '--staging', staging, '--publish-settings', s.settings, '--job', JOB, '--drive', ...drives, '--capacity', '24MB', '--json'],
      s.env,
    );
    assert.equal(prep.code, 0, prep.stderr);
    const prepared = JSON.parse(prep.stdout);
    const ship = cli(
      [
        'diskprep',
        '--update-shipping',
        '--staging',
        staging,
        '--publish-settings',
        s.settings,
        '--job',
        JOB,
        '--tracking',
        'TRACK-7001',
        ...SHIPPING_FLAGS,
        '--yes',
      ],
      s.env,
    );
    assert.equal(ship.code, 0, ship.stderr);
    const received = cli([
      'datacenter',
      'receive',
      '--data-dir',
      s.dataDir,
      '--job',
      JOB,
      '--drive',
      ...prepared.drives.map((d: { path: string }) => d.path),
      '--json',
    ]);
    assert.equal(received.code, 0, received.stderr);

    await appendFile(dump, 'one more row\n');
    const after = json(cli(['agent', 'backup-now', '--json'], s.env));
    assert.equal(after.seed.job.state, 'Completed');
    assert.equal(after.kind, 'online');
    assert.ok(after.traffic.sent < 0.05 * 24 * 1024 * 1024, `the dump after the seed sent ${after.traffic.sent} bytes`);

    const restored = join(s.dir, 'restored.bin');
    const r = cli(['agent', 'restore', 'latest', '--item', 'db', '--to-command', `cat > ${restored}`], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(restored)).equals(await readFile(dump)));
  });
});
