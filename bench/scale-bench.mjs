#!/usr/bin/env node
// Scale benchmark (issue 14): costs that grow with the repository instead of the change.
// Sections run in turn; each prints its own table and returns its figures for --json.
// The files section backs up trees of small files (1–3 KiB, 1,000 a directory) at two sizes
// with driveseed and restic 0.18 in the same run, and reports medians and the per-file
// slope between the sizes (what one more file costs in time and memory).
//
// The index section (bench/scale-index.mjs) loads synthetic indexes of --blobs blobs; the link
// section (bench/link-bench.mjs) runs online incrementals over the link emulator.
//
//   npm run bench:scale -- [--files 100000,1000000] [--blobs 10000000,50000000] [--link-data /usr/share]
//                          [--runs 1] [--sections files,index,link] [--workdir .bench-scale] [--restic PATH] [--json]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeSmallFiles } from './make-small-files.mjs';
import { Settler } from './settle.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '100000,1000000' },
    runs: { type: 'string', default: '1' },
    sections: { type: 'string', default: 'files,index,link' },
    blobs: { type: 'string', default: '10000000,50000000' },
    'link-data': { type: 'string', default: '/usr/share' },
    workdir: { type: 'string', default: join(ROOT, '.bench-scale') },
    /** restic 0.18's binary; by default installed once by the shared helper script. */
    restic: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const WORK = resolve(args.workdir);
const RUNS = Number(args.runs);
const PASSWORD = 'bench password';
const ENV = { ...process.env, DRIVESEED_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD };
const log = (...m) => {
  if (!args.json) console.error(...m);
};

/** restic 0.18 exactly (the peer), installed once by the shared helper script. */
function restic018() {
  if (args.restic) return args.restic;
  const out = execFileSync('/work/shared/tools/restic-0.18.sh', ['/tmp/restic-0.18'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim().split('\n').at(-1);
}

let settler;
/** One command from a settled machine (bench/settle.mjs): wall seconds and peak RSS in MB. */
function timed(cmd, argv) {
  settler.settle();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...argv], { cwd: WORK, env: ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [seconds, kb] = last.split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return { seconds, peakMB: kb / 1024 };
}

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
}

function peers(restic) {
  const ds = [process.execPath, join(ROOT, 'bin', 'driveseed.js')];
  return {
    driveseed: {
      init: (repo) => timed(ds[0], [ds[1], 'init', '--repo', repo]),
      backup: (repo, data) => timed(ds[0], [ds[1], 'backup', '--repo', repo, data]),
      restore: (repo, target) => timed(ds[0], [ds[1], 'restore', '--repo', repo, 'latest', '--target', target]),
      check: (repo) => timed(ds[0], [ds[1], 'check', '--repo', repo]),
    },
    restic: {
      init: (repo) => timed(restic, ['init', '-q', '--repo', repo]),
      backup: (repo, data) => timed(restic, ['backup', '-q', '--compression', 'auto', '--repo', repo, data]),
      restore: (repo, target) => timed(restic, ['restore', '-q', '--repo', repo, 'latest', '--target', target]),
      check: (repo) => timed(restic, ['check', '-q', '--repo', repo]),
    },
  };
}

const STEPS = ['first', 'unchanged', 'restore', 'check'];

/** One tool through the four steps on one tree; the restore goes to a directory deleted only at the end (ext4 reuses freed inodes slowly). */
function runSteps(tool, name, files, data, run) {
  const repo = join(WORK, `repo-${name}-${files}`);
  const target = join(WORK, `restore-${name}-${files}-${run}`);
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  tool.init(repo);
  const step = (s, result) => {
    log(`  ${s.padEnd(10)} ${result.seconds.toFixed(2)} s ${result.peakMB.toFixed(0)} MB`);
    return result;
  };
  const out = {};
  out.first = step('first', tool.backup(repo, data));
  out.unchanged = step('unchanged', tool.backup(repo, data));
  out.restore = step('restore', tool.restore(repo, target));
  out.check = step('check', tool.check(repo));
  rmSync(repo, { recursive: true, force: true });
  return out;
}

function filesSection(context) {
  const sizes = args.files.split(',').map(Number);
  const tools = peers(context.restic);
  const results = {};
  for (const files of sizes) {
    const data = join(WORK, `small-${files}`);
    log(`files: making ${files} small files…`);
    makeSmallFiles(data, { files });
    execFileSync('sh', ['-c', `find ${data} -type f -exec cat {} + > /dev/null`]);
    results[files] = {};
    for (const [name, tool] of Object.entries(tools)) {
      const runs = [];
      for (let run = 0; run < RUNS; run++) {
        log(`files: ${name}, ${files} files, run ${run + 1}…`);
        runs.push(runSteps(tool, name, files, data, run));
      }
      results[files][name] = Object.fromEntries(
        STEPS.map((s) => [s, { seconds: median(runs.map((r) => r[s].seconds)), peakMB: median(runs.map((r) => r[s].peakMB)) }]),
      );
    }
  }
  if (!args.json) printFiles(sizes, results);
  clearRestoreTargets();
  return { sizes, runs: RUNS, results, slopes: slopes(sizes, results) };
}

/** What one more file costs, between the smallest and the largest size: µs and KB of peak RSS. */
function slopes(sizes, results) {
  if (sizes.length < 2) return {};
  const [a, b] = [Math.min(...sizes), Math.max(...sizes)];
  const out = {};
  for (const name of Object.keys(results[a])) {
    out[name] = Object.fromEntries(
      STEPS.map((s) => {
        const [x, y] = [results[a][name][s], results[b][name][s]];
        return [s, { usPerFile: ((y.seconds - x.seconds) * 1e6) / (b - a), kbPerFile: ((y.peakMB - x.peakMB) * 1024) / (b - a) }];
      }),
    );
  }
  return out;
}

function printFiles(sizes, results) {
  console.log(`\nsmall files (1–3 KiB, 1,000 a directory); medians of ${RUNS}`);
  console.log(
    `${'files'.padEnd(9)}${'step'.padEnd(11)}${'ds s'.padStart(9)}${'restic s'.padStart(10)}${'ratio'.padStart(7)}${'ds MB'.padStart(9)}${'restic MB'.padStart(11)}${'ratio'.padStart(7)}`,
  );
  for (const files of sizes) {
    for (const s of STEPS) {
      const [d, r] = [results[files].driveseed[s], results[files].restic[s]];
      console.log(
        `${String(files).padEnd(9)}${s.padEnd(11)}${d.seconds.toFixed(2).padStart(9)}${r.seconds.toFixed(2).padStart(10)}${(d.seconds / r.seconds).toFixed(2).padStart(7)}` +
          `${d.peakMB.toFixed(0).padStart(9)}${r.peakMB.toFixed(0).padStart(11)}${(d.peakMB / r.peakMB).toFixed(2).padStart(7)}`,
      );
    }
  }
  const slope = slopes(sizes, results);
  if (!slope.driveseed) return;
  console.log(`\nper file from ${Math.min(...sizes)} to ${Math.max(...sizes)} files (µs, KB of peak RSS)`);
  for (const s of STEPS) {
    const [d, r] = [slope.driveseed[s], slope.restic[s]];
    console.log(
      `${s.padEnd(11)}driveseed ${d.usPerFile.toFixed(1).padStart(6)} µs ${d.kbPerFile.toFixed(2).padStart(6)} KB   restic ${r.usPerFile.toFixed(1).padStart(6)} µs ${r.kbPerFile.toFixed(2).padStart(6)} KB`,
    );
  }
}

function clearRestoreTargets() {
  execFileSync('sh', ['-c', `rm -rf ${WORK}/restore-*`]);
}

/** A section that is a bench of its own, run as a child that prints JSON; its table goes to stderr unless --json. */
function childBench(script, argv) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', script), ...argv, '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status})`);
  return JSON.parse(r.stdout);
}

/** Synthetic repositories of --blobs blobs (bench/scale-index.mjs): load time, bytes a blob, lookups a second. */
function indexSection() {
  const results = childBench('scale-index.mjs', ['--blobs', args.blobs]);
  if (!args.json) {
    console.log(`\nindex (restic 0.18's in-memory entry: 56 bytes; goals: ≤ 48 B a blob, ≥ 2M blobs/s at 50M)`);
    for (const r of results)
      console.log(
        `${String(r.blobs).padEnd(10)} load ${r.loadSeconds.toFixed(2)} s, ${(r.blobsPerSecond / 1e6).toFixed(2)} M blobs/s, ${r.bytesPerBlob.toFixed(1)} B a blob, ` +
          `has() ${(r.hitsPerSecond / 1e6).toFixed(2)} M hits/s ${(r.missesPerSecond / 1e6).toFixed(2)} M misses/s`,
      );
  }
  return results;
}

/** The agent against a local service over the link emulator (bench/link-bench.mjs); restic is not run: it has no agent and service to put behind the link. */
function linkSection() {
  const result = childBench('link-bench.mjs', ['--data', args['link-data']]);
  if (!args.json) {
    console.log(`\nlink: ${result.data} over ${result.rttMs} ms RTT, ${result.mbit} Mbit/s`);
    for (const r of result.rows)
      console.log(
        `${r.label.padEnd(36)} ${r.seconds.toFixed(1).padStart(6)} s  received ${String(r.received).padStart(10)} B  sent ${String(r.sent).padStart(10)} B  ${r.requests} requests`,
      );
  }
  return result;
}

/** The sections, by name. Each gets the shared context (work directory, peers, timed runner) and returns its figures. */
const SECTIONS = { files: filesSection, index: indexSection, link: linkSection };

function main() {
  mkdirSync(WORK, { recursive: true });
  const wanted = args.sections.split(',');
  const unknown = wanted.filter((s) => !(s in SECTIONS));
  if (unknown.length) throw new Error(`unknown sections: ${unknown.join(', ')} (known: ${Object.keys(SECTIONS).join(', ')})`);
  const context = { work: WORK, restic: restic018(), timed, log };
  settler = new Settler(WORK);
  try {
    const report = Object.fromEntries(wanted.map((s) => [s, SECTIONS[s](context)]));
    if (args.json) console.log(JSON.stringify({ node: process.version, ...report }, null, 2));
  } finally {
    settler.close();
  }
}

main();
