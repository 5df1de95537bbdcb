import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceClient } from '../src/api/service-client.js';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { cli, json } from './cli-harness.js';
import { setUpAgent, SHIPPING_FLAGS, tamperDrive } from './service-harness.js';

const JOB = 'restore-by-drive';

/**
 * Some 34 MB of packs that do not compress, the largest about 17 MB: more than one 30 MB drive holds,
 * and however the packs fall in name order (each drive takes them in turn until the next does not fit), two drives hold them.
 */
export async function exportableTree(dir: string): Promise<void> {
  await writeSampleTree(dir, 3, 20);
  await mkdir(join(dir, 'big'), { recursive: true });
  for (let i = 0; i < 7; i++) await writeFile(join(dir, 'big', `blob-${i}.bin`), randomBytes(4 * 1024 * 1024));
}

/** How the service keeps its data: the embedded defaults, or PostgreSQL and Azure Blob Storage (Azurite). */
export interface ServiceBackends {
  name: string;
  /** `service start` flags and the environment it and the data centre's commands need; `datacenter` flags besides --data-dir. */
  start(t: any): Promise<{ extra: string[]; env: Record<string, string>; datacenter: string[] }>;
}

export function exportRestoreSuite(backends: ServiceBackends): void {
  describe(`export jobs: restore by drive, on ${backends.name}`, () => {
    it('an export over two drives, one tampered, restored byte for byte on a fresh machine with only the damaged pack over the network', async (t) => {
      const setting = await backends.start(t);
      const s = await setUpAgent(t, { data: exportableTree, extra: setting.extra, env: setting.env });
      assert.equal(cli(['agent', 'protect', s.data], s.env).code, 0);
      assert.equal(json(cli(['agent', 'backup-now', '--json'], s.env)).state, 'Completed');

      // Shipping details all or none: a partial set is named in one line, and no job is made.
      const partial = cli(['agent', 'export', '--job', JOB, '--carrier', 'DHL'], s.env);
      assert.equal(partial.code, 2, partial.stderr);
      assert.match(partial.stderr, /^driveseed: shipping details need --tracking, --ship-date, .*--postal-code\n/);

      const asked = json(cli(['agent', 'export', '--job', JOB, 'latest', ...SHIPPING_FLAGS, '--tracking', 'EXP-0001', '--json'], s.env));
      assert.equal(asked.state, 'Shipping');
      assert.equal(asked.resumed, false);
      assert.ok(asked.packs >= 2, `${asked.packs} packs`);
      assert.ok(asked.files > asked.packs, 'the service added the repository metadata');
      assert.deepEqual(
        asked.history.map((h: { state: string }) => h.state),
        ['Creating', 'Shipping'],
      );
      // A rerun (a kill between batches) completes the same job instead of failing on its name.
      const again = json(cli(['agent', 'export', '--job', JOB, '--json'], s.env));
      assert.equal(again.resumed, true);
      assert.equal(again.files, asked.files);

      // The data centre writes the customer's blank drives; each is read back before it is recorded.
      const drives = [join(s.dir, 'blank-1'), join(s.dir, 'blank-2')];
      for (const d of drives) await mkdir(d);
      const dc = (args: string[]) => cli(['datacenter', ...args, '--data-dir', s.dataDir, ...setting.datacenter], s.env);
      const written = json(dc(['export', '--job', JOB, '--drive', ...drives, '--capacity', '30MB', '--json']));
      assert.equal(written.remainingFiles, 0);
      assert.equal(written.drives.length, 2, 'the export spans both drives');
      assert.equal(written.job.state, 'Packaging');
      assert.ok(written.drives.every((d: { files: number }) => d.files > 0));
      const shipped = dc(['ship-back', '--job', JOB, '--tracking', 'RET-0001']);
      assert.equal(shipped.code, 0, shipped.stderr);
      assert.match(shipped.stdout, /the job is Completed/);
      const listed = dc(['jobs']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(
        listed.stdout,
        new RegExp(`^${JOB}  Completed  export of ${s.registered.name} ${asked.snapshotId.slice(0, 8)}: ${asked.files} files, .*DHL EXP-0001$`, 'm'),
      );
      assert.match(listed.stdout, /^ {2}drive [0-9a-f-]{36} {2}ShippedBack {2}\d+ files, /m);
      assert.match(listed.stdout, /^1 export job$/m);

      // On the way back a byte flips on the second drive; then the server is lost.
      await tamperDrive(drives[1]);
      await rm(s.env.DRIVESEED_HOME, { recursive: true, force: true });
      const fresh = { ...setting.env, DRIVESEED_HOME: join(s.dir, 'new-machine') };
      const recovered = cli(['agent', 'register', '--publish-settings', s.settings, '--vault', 'main', '--recover', s.registered.name, '--json'], fresh);
      assert.equal(recovered.code, 0, recovered.stderr);

      // A heal limit below the damaged pack: nothing is fetched and nothing written; the line says what to do.
      const target = join(s.dir, 'restored');
      const tight = cli(['agent', 'restore', 'latest', '--from-drive', ...drives, '--target', target, '--heal-limit', '1KB'], fresh);
      assert.equal(tight.code, 1, tight.stderr);
      assert.match(tight.stderr, /^warning: .*blank-2: data\/[0-9a-f]{2}\/[0-9a-f]{64} block \d+: .*\n/m);
      assert.match(
        tight.stderr,
        /driveseed: the drives lack 1 of \d+ files \(\d+ bytes\), more than --heal-limit \d+ bytes allows over the network: nothing was fetched and nothing written into/,
      );
      assert.match(tight.stderr, /ask for another export/);
      assert.equal(existsSync(target), false, 'the target was not touched');

      const restored = json(cli(['agent', 'restore', 'latest', '--from-drive', ...drives, '--target', target, '--json'], fresh));
      assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);
      assert.equal(restored.overNetwork.files, 1, 'only the damaged pack came over the network');
      const [damaged] = restored.overNetwork.names as string[];
      assert.match(damaged, /^data\//);
      // The pack's size as the service measured it in the vault when the job was made.
      const owner = new ServiceClient(s.url, { ownerKey: s.bootstrap.ownerKey });
      const params = { subscriptionId: s.bootstrap.subscriptionId, vaultName: 'main', serverId: s.registered.id, jobName: JOB };
      const { files } = await owner.request('exportFiles', { params });
      assert.equal(restored.overNetwork.bytes, files.find((f) => f.name === damaged)!.size);
      assert.equal(restored.fromDrives.files + restored.overNetwork.files, asked.files);
    });
  });
}
