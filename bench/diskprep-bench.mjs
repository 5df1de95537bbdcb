#!/usr/bin/env node
// diskprep and data-centre import throughput against a plain `cp -r` of the same staging
// directory to the same file system, in the same run (medians of --repeat runs).
//
//   node bench/diskprep-bench.mjs --staging DIR [--target DIR] [--repeat 3]
//
// diskprep writes a mounted-directory drive and an image file; its read-back of each (every
// block read again with O_DIRECT where the file system allows, decrypted and checked) is
// timed on its own and reported against the write; the import is measured into the fs store
// (from both) and into Azurite (started here from npm).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareDrives } from '../dist/src/core/envelope/drive-writer.js';
import { importDrive } from '../dist/src/core/envelope/drive-reader.js';
import { verifyDrive } from '../dist/src/core/envelope/drive-verify.js';
import { FsStore } from '../dist/src/core/storage/fs/fs-store.js';
import { openStore } from '../dist/src/core/storage/open-store.js';
import { startAzurite } from '../dist/src/testing/azurite.js';

const { values: args } = parseArgs({
  options: { staging: { type: 'string' }, target: { type: 'string', default: '/tmp/diskprep-bench' }, repeat: { type: 'string', default: '3' } },
});
if (!args.staging) throw new Error('--staging DIR (a repository) is required');
const bytes = Number(execFileSync('du', ['-sb', args.staging], { encoding: 'utf8' }).split('\t')[0]);
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
const seconds = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const runs = { cp: [], diskprep: [], 'read-back': [], 'diskprep image': [], 'read-back image': [], import: [], 'import image': [], 'import azurite': [] };
let fromDevice = true;
const readBack = async (drive, jobName) => {
  const report = await verifyDrive(drive, { jobName, stateDir: join(args.target, 'state') });
  if (report.problems.length > 0) throw new Error(`the read-back found ${JSON.stringify(report.problems[0])}`);
  fromDevice &&= report.fromDevice;
};
// Each output is deleted as soon as it has been measured, so every timed run writes into page
// cache the run before it freed: on a VM whose memory the host backs on first touch, writing
// into never-touched memory is several times slower, and whoever ran second would pay for it.
// The deletion is synced before the next timed step: the disk is mounted with `discard`
// here, and a deletion's discards and metadata writes would otherwise land in that step.
const fresh = (path) => {
  rmSync(path, { recursive: true, force: true });
  execFileSync('sync');
};
for (let i = 0; i < Number(args.repeat); i++) {
  fresh(args.target);
  mkdirSync(join(args.target, 'drive'), { recursive: true });
  runs.cp.push(await seconds(async () => execFileSync('sh', ['-c', `cp -r ${args.staging} ${args.target}/cp && sync`])));
  fresh(join(args.target, 'cp'));
  let prepared;
  runs.diskprep.push(
    await seconds(async () => {
      prepared = await prepareDrives({
        staging: new FsStore(args.staging),
        jobName: `bench-${i}`,
        drives: [{ path: join(args.target, 'drive'), capacity: 1e12 }],
        stateDir: join(args.target, 'state'),
      });
      execFileSync('sync');
    }),
  );
  runs['read-back'].push(await seconds(() => readBack(prepared.drives[0], `bench-${i}`)));
  runs.import.push(
    await seconds(async () => {
      await importDrive(prepared.drives[0].path, prepared.drives[0], new FsStore(join(args.target, 'container')));
      execFileSync('sync');
    }),
  );
  fresh(join(args.target, 'container'));
  fresh(join(args.target, 'drive'));
  let image;
  runs['diskprep image'].push(
    await seconds(async () => {
      image = await prepareDrives({
        staging: new FsStore(args.staging),
        jobName: `bench-image-${i}`,
        drives: [{ path: join(args.target, 'drive.img'), capacity: 1e12 }],
        stateDir: join(args.target, 'state'),
      });
      execFileSync('sync');
    }),
  );
  runs['read-back image'].push(await seconds(() => readBack(image.drives[0], `bench-image-${i}`)));
  runs['import image'].push(
    await seconds(async () => {
      await importDrive(image.drives[0].path, image.drives[0], new FsStore(join(args.target, 'container')));
      execFileSync('sync');
    }),
  );
  fresh(join(args.target, 'container'));
  // A fresh Azurite for each run, started only now: one left idle through the runs above was
  // found gone by the time it was needed.
  const azurite = await startAzurite();
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
  const blob = await openStore(`azure://bench-${i}`);
  runs['import azurite'].push(
    await seconds(async () => {
      await importDrive(image.drives[0].path, image.drives[0], blob);
    }),
  );
  await azurite.stop();
}
const mbps = (s) => (bytes / 1e6 / s).toFixed(0);
const cp = median(runs.cp);
console.log(`staging ${(bytes / 1e6).toFixed(0)} MB; medians of ${args.repeat}`);
console.log(`cp -r:           ${cp.toFixed(2)} s (${mbps(cp)} MB/s)`);
for (const k of Object.keys(runs).filter((k) => k !== 'cp'))
  console.log(`${k.padEnd(16)} ${median(runs[k]).toFixed(2)} s (${mbps(median(runs[k]))} MB/s) = ${(cp / median(runs[k])).toFixed(2)}× cp's throughput`);
const cost = (k, w) => `${k}: ${((100 * median(runs[k])) / median(runs[w])).toFixed(0)} % of ${w}'s time`;
console.log(
  `read-back ${fromDevice ? 'from the device (O_DIRECT)' : 'through the page cache (the file system refused O_DIRECT)'}; ${cost('read-back', 'diskprep')}, ${cost('read-back image', 'diskprep image')}`,
);
rmSync(args.target, { recursive: true, force: true });
