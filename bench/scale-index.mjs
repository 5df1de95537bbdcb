#!/usr/bin/env node
// Index at scale: synthetic repositories of millions of blobs, written as version 2 index
// files with a real key, loaded through the real loader in a fresh process each, which then
// reports load time, the index's memory per blob (heap + array buffers, after a GC) and
// lookups per second, hits and misses. Reports medians over --repeat loads.
//
//   npm run bench:scale-index -- [--blobs 10000000,50000000] [--repeat 3] [--workdir DIR] [--json]
//
// restic 0.18 is not run: giving it an equal index means writing restic's own encrypted
// index format, which this bench does not do; its documented in-memory entry is 56 bytes
// (internal/repository/index/indexmap.go), beside which bytes per blob are reported.
import { spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
const dist = (path) => join(ROOT, 'dist/src/core', path);
const { values: args } = parseArgs({
  options: {
    blobs: { type: 'string', default: '10000000,50000000' },
    repeat: { type: 'string', default: '3' },
    workdir: { type: 'string', default: '/tmp/driveseed-scale-index' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});
/** Chunks average 512 KiB and packs close at 16 MiB: 32 blobs a pack, the most packs a blob. */
const BLOBS_PER_PACK = 32;
/** Blobs a file: what tiered consolidation leaves, a few large files. */
const BLOBS_PER_FILE = 1 << 20;
const LOOKUPS = 1_000_000;
const KEY = Buffer.alloc(32, 7);
const log = (...m) => {
  if (!args.json) console.error(...m);
};

/**
 * The same ids in every process, from an AES-CTR keystream under a fixed key: `count` ids in
 * order, as an index file holds them — uniform over the id space, the first word of id i
 * drawn from its i-th share of it.
 */
function sortedIds(file, count) {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 1), Buffer.alloc(16, file));
  const ids = cipher.update(Buffer.alloc(count * 32));
  for (let i = 0; i < count; i++) ids.writeUInt32BE(Math.floor(((i + ids.readUInt32BE(i * 32) / 2 ** 32) / count) * 2 ** 32), i * 32);
  return ids;
}

async function writeRepository(dir, blobs) {
  const { FsStore } = await import(dist('storage/fs/fs-store.js'));
  const { RepositoryFiles } = await import(dist('repo/repository-files.js'));
  const { IndexFileBuilder } = await import(dist('repo/index-file.js'));
  const files = new RepositoryFiles(new FsStore(dir), KEY, 'blake3');
  for (let file = 0, first = 0; first < blobs; file++, first += BLOBS_PER_FILE) {
    const count = Math.min(BLOBS_PER_FILE, blobs - first);
    const packs = Math.ceil(count / BLOBS_PER_PACK);
    const builder = new IndexFileBuilder(packs, count);
    for (let p = 0; p < packs; p++) {
      const packId = randomBytes(32);
      builder.pack((to, at) => packId.copy(to, at), 16 * 1024 * 1024);
    }
    const ids = sortedIds(file, count);
    for (let i = 0; i < count; i++) {
      const slot = Math.floor(i / packs);
      builder.blob((to, at) => ids.copy(to, at, i * 32, i * 32 + 32), i % packs, false, slot * 524_316, 524_316, 524_288);
    }
    await files.writeSealedPayload('index', 'index/', builder.finish());
  }
}

/** Memory once the garbage is collected: external buffers go a moment after their objects. */
async function settledMemory() {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  globalThis.gc();
  return process.memoryUsage();
}

/** In a fresh process: load, measure, look up. */
async function child(dir, blobs) {
  const { FsStore } = await import(dist('storage/fs/fs-store.js'));
  const { RepositoryFiles } = await import(dist('repo/repository-files.js'));
  const { MasterIndex } = await import(dist('repo/master-index.js'));
  const { IndexLoader } = await import(dist('repo/index-loader.js'));
  const { IndexWriter } = await import(dist('repo/index-writer.js'));
  const before = await settledMemory();
  const files = new RepositoryFiles(new FsStore(dir), KEY, 'blake3');
  const index = new MasterIndex();
  const started = process.hrtime.bigint();
  const problems = await new IndexLoader(files, KEY, index, new IndexWriter(files, index)).loadIndex();
  const loadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (problems.length > 0 || index.blobCount !== blobs) throw new Error(`loaded ${index.blobCount} of ${blobs} blobs: ${JSON.stringify(problems)}`);
  const after = await settledMemory();
  const hits = sortedIds(0, Math.min(BLOBS_PER_FILE, blobs)).toString('hex').match(/.{64}/g).slice(0, LOOKUPS);
  const misses = randomBytes(LOOKUPS * 32)
    .toString('hex')
    .match(/.{64}/g);
  const bytes = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  const rate = (ids, expected) => {
    const t = process.hrtime.bigint();
    for (const id of ids) if (index.has(id) !== expected) throw new Error(`lookup of ${id} is not ${expected}`);
    return ids.length / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const locate = (ids) => {
    const t = process.hrtime.bigint();
    for (const id of ids) if (index.lookup(id) === undefined) throw new Error(`lookup of ${id} failed`);
    return ids.length / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const result = {
    blobs,
    loadSeconds,
    blobsPerSecond: blobs / loadSeconds,
    bytesPerBlob: bytes / blobs,
    rssBytesPerBlob: (after.rss - before.rss) / blobs,
    hitsPerSecond: rate(hits, true),
    missesPerSecond: rate(misses, false),
    lookupsPerSecond: locate(hits),
  };
  process.stdout.write(JSON.stringify(result));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const sizes = args.blobs.split(',').map(Number);
  const repeat = Number(args.repeat);
  const results = [];
  for (const blobs of sizes) {
    const dir = join(resolve(args.workdir), String(blobs));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t = Date.now();
    await writeRepository(dir, blobs);
    log(`${blobs} blobs: index files written in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const runs = [];
    for (let r = 0; r < repeat; r++) {
      const run = spawnSync(
        process.execPath,
        ['--expose-gc', '--max-old-space-size=8192', new URL(import.meta.url).pathname, '--child', dir, '--blobs', String(blobs)],
        {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        },
      );
      if (run.status !== 0) throw new Error(`child failed: ${run.stderr}`);
      runs.push(JSON.parse(run.stdout));
    }
    const summary = Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
    results.push(summary);
    log(
      `${blobs} blobs: load ${summary.loadSeconds.toFixed(2)} s (${(summary.blobsPerSecond / 1e6).toFixed(2)} M blobs/s), ` +
        `${summary.bytesPerBlob.toFixed(1)} B/blob (heap + array buffers; RSS ${summary.rssBytesPerBlob.toFixed(1)}; restic 0.18's entry: 56), ` +
        `has(): ${(summary.hitsPerSecond / 1e6).toFixed(2)} M hits/s, ${(summary.missesPerSecond / 1e6).toFixed(2)} M misses/s, ` +
        `lookup(): ${(summary.lookupsPerSecond / 1e6).toFixed(2)} M/s — medians of ${repeat}`,
    );
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
  if (args.json) console.log(JSON.stringify(results, null, 2));
}

if (args.child) await child(args.child, Number(args.blobs));
else await main();
