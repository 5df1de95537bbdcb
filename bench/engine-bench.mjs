#!/usr/bin/env node
// Engine benchmark: driveseed against restic and borg (Debian's packages: restic 0.14, borg
// 1.2) and restic 0.18 (the current release, from ../shared/tools/restic-0.18.sh) on the same
// data, in the same run, so the ratios mean something on a shared, noisy machine. Reports medians.
//
//   npm run bench -- [--size-gb 2] [--repeat 1] [--workdir .bench] [--json]
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyChange as applyTreeChange, listFiles } from './tree-change.mjs';
import { Settler } from './settle.mjs';
import { repositoryBreakdown } from './repo-breakdown.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    'size-gb': { type: 'string', default: '2' },
    repeat: { type: 'string', default: '1' },
    workdir: { type: 'string', default: join(ROOT, '.bench') },
    json: { type: 'boolean', default: false },
  },
});
const SIZE = Math.round(Number(args['size-gb']) * 1024 ** 3);
const REPEAT = Number(args.repeat);
const WORK = resolve(args.workdir);
const DATA = join(WORK, 'data');
const PASSWORD = 'bench password';
const ENV = {
  ...process.env,
  DRIVESEED_PASSWORD: PASSWORD,
  RESTIC_PASSWORD: PASSWORD,
  BORG_PASSPHRASE: PASSWORD,
  BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
  BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
};
const log = (...m) => {
  if (!args.json) console.error(...m);
};

function ensureTools() {
  const missing = ['restic', 'borg', 'zstd'].filter((t) => spawnSync('which', [t]).status !== 0);
  if (!existsSync('/usr/bin/time')) missing.push('time');
  if (missing.length === 0) return;
  log(`installing ${missing.join(', ')} from Debian…`);
  const pkgs = missing.map((t) => (t === 'borg' ? 'borgbackup' : t));
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Real files (libraries, headers, docs) up to 85% of the size, plus one large file of real bytes. */
function buildDataset() {
  if (existsSync(join(DATA, '.complete'))) return JSON.parse(readFileSync(join(DATA, '.complete'), 'utf8'));
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  let bytes = 0;
  let files = 0;
  const budget = SIZE * 0.85;
  const walk = (src, dst) => {
    let entries;
    try {
      entries = readdirSync(src, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (bytes >= budget) return;
      const from = join(src, e.name);
      const to = join(dst, e.name);
      if (e.isDirectory()) {
        mkdirSync(to, { recursive: true });
        walk(from, to);
      } else if (e.isFile()) {
        try {
          copyFileSync(from, to);
          bytes += statSync(to).size;
          files++;
        } catch {
          /* unreadable: skip */
        }
      }
    }
  };
  for (const src of ['/usr/lib', '/usr/share', '/usr/include', '/usr/bin']) {
    const dst = join(DATA, src.replaceAll('/', '_'));
    mkdirSync(dst, { recursive: true });
    walk(src, dst);
  }
  // The large file: real bytes (the copied tree's own files, concatenated), not noise.
  const large = openSync(join(DATA, 'large.img'), 'w');
  let largeBytes = 0;
  const sources = listFiles(DATA).sort((a, b) => b.size - a.size);
  for (let i = 0; largeBytes < SIZE * 0.15 && sources.length > 0; i++) {
    const buf = readFileSync(sources[i % sources.length].path);
    const take = Math.min(buf.length, Math.ceil(SIZE * 0.15) - largeBytes);
    writeSync(large, buf, 0, take);
    largeBytes += take;
  }
  closeSync(large);
  const info = { files: files + 1, bytes: bytes + largeBytes };
  writeFileSync(join(DATA, '.complete'), JSON.stringify(info));
  return info;
}

function applyChange(round) {
  applyTreeChange(DATA, round);
}

/**
 * Every timed command starts from the same machine state (bench/settle.mjs): dirty pages
 * written back — a restore writes 2 GB, and without this the next tool's run shared the
 * machine with the kernel flushing the last one's data (the same restore at 2.8 s of system
 * time after a sync, 9.6 s behind another's) — and no free memory to write into.
 */
let settler;
function timed(cmd, argv, cwd = WORK) {
  settler.settle();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...argv], { cwd, env: ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [seconds, kb] = last.split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return { seconds, peakMB: kb / 1024 };
}

function du(path) {
  return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
}

const DRIVESEED = [process.execPath, join(ROOT, 'bin', 'driveseed.js')];
/** restic 0.18 exactly (issue 14's peer), installed once by the shared helper script. */
function restic018() {
  const out = execFileSync('/work/shared/tools/restic-0.18.sh', ['/tmp/restic-0.18'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim().split('\n').at(-1);
}

function resticTool(binary) {
  return {
    init: (repo) => timed(binary, ['init', '-q', '--repo', repo]),
    backup: (repo) => timed(binary, ['backup', '-q', '--compression', 'auto', '--repo', repo, DATA]),
    restore: (repo, target) => timed(binary, ['restore', '-q', '--repo', repo, 'latest', '--target', target]),
  };
}

const RESTIC_018 = restic018();
const tools = {
  driveseed: {
    init: (repo) => timed(DRIVESEED[0], [DRIVESEED[1], 'init', '--repo', repo]),
    backup: (repo) => timed(DRIVESEED[0], [DRIVESEED[1], 'backup', '--repo', repo, DATA]),
    restore: (repo, target) => timed(DRIVESEED[0], [DRIVESEED[1], 'restore', '--repo', repo, 'latest', '--target', target]),
  },
  restic: resticTool('restic'),
  restic018: resticTool(RESTIC_018),
  borg: {
    init: (repo) => timed('borg', ['init', '-e', 'repokey-blake2', repo]),
    backup: (repo) => timed('borg', ['create', '--compression', 'zstd,3', `${repo}::b${Date.now()}`, DATA]),
    // borg extracts into the current directory, at the archive's stored (relative) path.
    restore: (repo, target) => {
      const last = execFileSync('borg', ['list', '--short', '--last', '1', repo], { env: ENV, encoding: 'utf8' }).trim();
      return timed('borg', ['extract', `${repo}::${last}`], target);
    },
  },
};

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
}

/**
 * Every restore goes into a directory of its own, and all of them are deleted only when the
 * bench ends: ext4 skips inodes freed in the last minute (five while their table is dirty)
 * when it allocates new ones, so a restore soon after deleting another 40k-file tree ran
 * several times slower for whichever tool came next.
 */
const restoreTarget = (name, round) => join(WORK, `restore-${name}-${round}`);

function clearRestoreTargets() {
  for (const entry of readdirSync(WORK)) if (entry.startsWith('restore-')) rmSync(join(WORK, entry), { recursive: true, force: true });
}

function runTool(name, tool, round) {
  const repo = join(WORK, `repo-${name}`);
  const target = restoreTarget(name, round);
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  tool.init(repo);
  const first = tool.backup(repo);
  const repoSize = du(repo);
  const unchanged = tool.backup(repo);
  return { repo, target, first, repoSize, unchanged, name, round };
}

async function main() {
  ensureTools();
  mkdirSync(WORK, { recursive: true });
  log(`building a ${args['size-gb']} GB dataset in ${DATA}…`);
  const dataset = buildDataset();
  log(`dataset: ${dataset.files} files, ${(dataset.bytes / 1e9).toFixed(2)} GB`);
  execFileSync('sh', ['-c', `find ${DATA} -type f -exec cat {} + > /dev/null`]);
  const versions = {
    restic: execFileSync('restic', ['version'], { encoding: 'utf8' }).trim(),
    restic018: execFileSync(RESTIC_018, ['version'], { encoding: 'utf8' }).trim(),
    borg: execFileSync('borg', ['--version'], { encoding: 'utf8' }).trim(),
    node: process.version,
  };
  clearRestoreTargets();
  settler = new Settler(WORK);
  log(`filled ${(settler.settle() / 1e9).toFixed(1)} GB of free memory with page cache (bench/settle.mjs)`);
  try {
    return await report(dataset, versions);
  } finally {
    settler.close();
  }
}

async function report(dataset, versions) {
  const results = { driveseed: [], restic: [], restic018: [], borg: [] };
  const floor = [];
  const growth = [];
  for (let round = 0; round < REPEAT; round++) {
    floor.push(timed('sh', ['-c', `tar cf - -C ${DATA} . | zstd -3 -T2 -q > /dev/null`]).seconds);
    const runs = {};
    for (const [name, tool] of Object.entries(tools)) {
      log(`round ${round + 1}: ${name} first and unchanged backup…`);
      try {
        runs[name] = runTool(name, tool, round);
      } catch (e) {
        log(`${name} failed: ${e.message}`);
      }
    }
    applyChange(round);
    for (const [name, run] of Object.entries(runs)) {
      log(`round ${round + 1}: ${name} incremental backup and restore…`);
      try {
        const before = du(run.repo);
        const parts = name === 'driveseed' ? await repositoryBreakdown(run.repo, PASSWORD) : undefined;
        const incremental = tools[name].backup(run.repo);
        const grown = du(run.repo) - before;
        if (parts) {
          const after = await repositoryBreakdown(run.repo, PASSWORD);
          growth.push(Object.fromEntries(Object.keys(after).map((k) => [k, ((after[k] - parts[k]) / dataset.bytes) * 100])));
        }
        const restore = tools[name].restore(run.repo, run.target);
        results[name].push({
          first: run.first.seconds,
          peakMB: run.first.peakMB,
          unchanged: run.unchanged.seconds,
          repoSize: run.repoSize,
          incremental: incremental.seconds,
          addedPct: (grown / dataset.bytes) * 100,
          restore: restore.seconds,
        });
      } catch (e) {
        log(`${name} failed: ${e.message}`);
      }
    }
  }
  clearRestoreTargets();
  const metrics = ['first', 'unchanged', 'incremental', 'restore', 'repoSize', 'addedPct', 'peakMB'];
  const summary = {};
  for (const [name, runs] of Object.entries(results)) {
    summary[name] = Object.fromEntries(metrics.map((m) => [m, median(runs.map((r) => r[m]))]));
  }
  const d = summary.driveseed;
  const ratio = (m, peer) => d[m] / summary[peer][m];
  const goals = [
    ['first backup ≤ 0.5× restic', ratio('first', 'restic'), (x) => x <= 0.5],
    ['first backup ≤ 0.67× borg', ratio('first', 'borg'), (x) => x <= 0.67],
    ['unchanged backup ≤ 1× restic', ratio('unchanged', 'restic'), (x) => x <= 1],
    ['restore ≤ 0.67× restic', ratio('restore', 'restic'), (x) => x <= 0.67],
    ['repository ≤ 1.05× restic', ratio('repoSize', 'restic'), (x) => x <= 1.05],
    ['1% change adds ≤ 2% of the tree', d.addedPct, (x) => x <= 2],
    ['peak RSS < 400 MB', d.peakMB, (x) => x < 400],
    // Issue 14's goals, against restic 0.18.
    ['first backup ≤ 0.4× restic 0.18', ratio('first', 'restic018'), (x) => x <= 0.4],
    ['unchanged backup ≤ 0.8× restic 0.18', ratio('unchanged', 'restic018'), (x) => x <= 0.8],
    ['restore ≤ 0.5× restic 0.18', ratio('restore', 'restic018'), (x) => x <= 0.5],
    ['repository ≤ 1.05× restic 0.18', ratio('repoSize', 'restic018'), (x) => x <= 1.05],
    ['peak RSS ≤ 1.5× restic 0.18', ratio('peakMB', 'restic018'), (x) => x <= 1.5],
  ].map(([goal, value, ok]) => ({ goal, value, met: ok(value) }));
  const growthPct = growth.length ? Object.fromEntries(Object.keys(growth[0]).map((k) => [k, median(growth.map((g) => g[k]))])) : undefined;
  const report = { dataset, versions, repeat: REPEAT, zstdFloorSeconds: median(floor), summary, driveseedGrowthPct: growthPct, goals };
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const fmt = (m, v) =>
    m === 'repoSize' ? `${(v / 1e6).toFixed(0)} MB` : m === 'addedPct' ? `${v.toFixed(2)} %` : m === 'peakMB' ? `${v.toFixed(0)} MB` : `${v.toFixed(2)} s`;
  console.log(
    `\ndataset ${dataset.files} files, ${(dataset.bytes / 1e9).toFixed(2)} GB; ${versions.restic}; ${versions.restic018}; ${versions.borg}; node ${versions.node}; medians of ${REPEAT}`,
  );
  console.log(`floor: tar | zstd -3 -T2 took ${median(floor).toFixed(2)} s\n`);
  console.log(
    `${'metric'.padEnd(12)}${'driveseed'.padStart(12)}${'restic0.14'.padStart(12)}${'restic0.18'.padStart(12)}${'borg'.padStart(12)}` +
      `${'ds/r0.14'.padStart(10)}${'ds/r0.18'.padStart(10)}${'ds/borg'.padStart(9)}`,
  );
  for (const m of metrics) {
    const row = ['driveseed', 'restic', 'restic018', 'borg'].map((t) => (summary[t] ? fmt(m, summary[t][m]) : 'failed').padStart(12)).join('');
    console.log(
      `${m.padEnd(12)}${row}${ratio(m, 'restic').toFixed(2).padStart(10)}${ratio(m, 'restic018').toFixed(2).padStart(10)}${ratio(m, 'borg').toFixed(2).padStart(9)}`,
    );
  }
  if (growthPct) {
    const parts = Object.entries(growthPct).map(([k, v]) => `${k} ${v.toFixed(3)} %`);
    console.log(`\ndriveseed's growth from the 1 % change, in % of the tree: ${parts.join(', ')}`);
  }
  console.log('');
  for (const g of goals) console.log(`${g.met ? 'met   ' : 'MISSED'}  ${g.goal}: ${g.value.toFixed(2)}`);
}

await main();
