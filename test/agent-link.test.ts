import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { fileId } from '../src/core/repo/ids.js';
import { freePort } from '../src/testing/azurite.js';
import { startLink, type Link } from '../src/testing/link-emulator.js';
import { cliAsync, tempDir, type CliResult } from './cli-harness.js';
import { startServiceProcess, stopProcess } from './service-harness.js';

/** The CLI without blocking this process: the link runs in its event loop. */
function run(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = cliAsync(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function backupNow(env: Record<string, string>): Promise<any> {
  const r = await run(['agent', 'backup-now', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A service, an agent registered through a link, a protected sample tree backed up once; then the link becomes 50 ms / 4 MB/s each way. */
async function agentOverLink(t: any) {
  const dir = await tempDir(t);
  const dataDir = join(dir, 'service');
  const port = await freePort();
  // Progress reports go on a timer while a backup runs, one at a time and never waited for: their
  // number follows how long the run took on this machine, not the files or packs, so the round
  // trips counted here are the others.
  const requestLines: string[] = [];
  const counted = (line: string) => !/^POST \S+\/progress /.test(line) && requestLines.push(line) > 0;
  const link: Link = await startLink({ target: `http://127.0.0.1:${port}`, latencyMs: 0, countsRequest: counted });
  t.after(() => link.close());
  // Agents know the service by the link's address, which is therefore its public one (token audiences).
  const service = await startServiceProcess(dataDir, port, ['--public-url', link.url]);
  t.after(() => stopProcess(service));
  const bootstrap = JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8'));
  const home = join(dir, 'agent');
  const env = { DRIVESEED_HOME: home };
  const settings = join(dir, 'publish.json');
  const publish = ['service', 'publish-settings', '--service', link.url, '--subscription', bootstrap.subscriptionId, '--owner-key', bootstrap.ownerKey];
  assert.equal((await run([...publish, '--out', settings], env)).code, 0);
  const registered = await run(['agent', 'register', '--publish-settings', settings, '--vault', 'main', '--json'], env);
  assert.equal(registered.code, 0, registered.stderr);
  const data = join(dir, 'data');
  await writeSampleTree(data, 5, 150);
  assert.equal((await run(['agent', 'protect', data], env)).code, 0);
  const first = await backupNow(env);
  assert.equal(first.state, 'Completed');
  link.shape({ latencyMs: 50, upBytesPerSecond: 4e6, downBytesPerSecond: 4e6 });
  const repositoryId = (await readdir(join(home, 'cache')))[0];
  return { env, link, data, requestLines, cache: join(home, 'cache', repositoryId) };
}

/** Requests an unchanged incremental may make whatever the tree's size (12–15 measured, progress reports not counted). */
const MAX_ROUND_TRIPS = 18;

/** An unchanged incremental, and what it moved over the link: the counts, and each request's line. */
async function unchangedBackup(s: { env: Record<string, string>; link: Link; requestLines: string[] }) {
  s.link.resetStats();
  s.requestLines.length = 0;
  const job = await backupNow(s.env);
  assert.equal(job.filesNew + job.filesChanged, 0);
  return { ...s.link.stats, lines: [...s.requestLines] };
}

/** The requests of a run that list a folder of the repository, by folder. */
function listings(lines: string[]): string[] {
  return lines.flatMap((line) => /[?&]prefix=([a-z]+)/.exec(line)?.[1] ?? []).sort();
}

async function cachedFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((f) => /[0-9a-f]{64}$/.test(f));
}

describe('agent over a long, thin link', () => {
  it('an unchanged incremental with a warm cache receives at most 256 KiB in a bounded number of requests, and far less than a cold one', async (t) => {
    const s = await agentOverLink(t);
    await unchangedBackup(s); // reads the tree packs the first backup wrote, once
    const warm = await unchangedBackup(s);
    assert.ok(warm.bytesDown <= 256 * 1024, `received ${warm.bytesDown} bytes`);
    assert.ok(warm.requests <= MAX_ROUND_TRIPS, `${warm.requests} requests:\n${warm.lines.join('\n')}`);
    // No listing of every pack (a killed run's packs are found through the local journal), and
    // index/ is listed once, not again to consolidate; one token for all the calls made at once.
    assert.deepEqual(listings(warm.lines), ['index', 'keys', 'locks', 'snapshots']);
    assert.equal(warm.lines.filter((line) => line.startsWith('POST /v1/token ')).length, 1);
    const cachedBytes = (await Promise.all((await cachedFiles(s.cache)).map(async (f) => (await stat(join(s.cache, f))).size))).reduce((a, b) => a + b, 0);
    await rm(s.cache, { recursive: true });
    const cold = await unchangedBackup(s);
    assert.ok(cold.bytesDown >= warm.bytesDown + cachedBytes, `cold ${cold.bytesDown}, warm ${warm.bytesDown}, cached ${cachedBytes}`);
    // The tree doubled: the warm incremental stays within the same bound. (Not "no more than
    // before": the directories above the protected one, /tmp here, are in the snapshot too, and
    // when other processes change /tmp an "unchanged" run writes a new root tree — a pack, its
    // grant and an index file, which is what a clean CI clone once showed.)
    await writeSampleTree(join(s.data, 'more'), 6, 150);
    await backupNow(s.env);
    await unchangedBackup(s);
    const doubled = await unchangedBackup(s);
    assert.ok(doubled.requests <= MAX_ROUND_TRIPS, `${doubled.requests} requests for twice the files, ${warm.requests} before:\n${doubled.lines.join('\n')}`);
  });

  it('a damaged cache file is detected by its id, dropped and fetched again', async (t) => {
    const s = await agentOverLink(t);
    const [index] = (await cachedFiles(s.cache)).filter((f) => f.startsWith('index'));
    const path = join(s.cache, index);
    const bytes = await readFile(path);
    bytes[bytes.length - 1] ^= 0x01;
    await writeFile(path, bytes);
    const stats = await unchangedBackup(s);
    assert.ok(stats.bytesDown >= bytes.length, `received ${stats.bytesDown} bytes, the index file is ${bytes.length}`);
    const again = await readFile(path);
    assert.equal(fileId(again, 'blake3'), index.split('/').at(-1));
  });

  it("a file of another repository's cache is never read, and goes at the next listing", async (t) => {
    const s = await agentOverLink(t);
    const other = await agentOverLink(t);
    const [foreign] = (await cachedFiles(other.cache)).filter((f) => f.startsWith('index'));
    assert.notEqual(other.cache, s.cache, 'each repository has its own cache directory');
    await mkdir(join(s.cache, 'index'), { recursive: true });
    await writeFile(join(s.cache, foreign), await readFile(join(other.cache, foreign)));
    const r = await run(['agent', 'backup-now', '--json'], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.includes('warning'), false, r.stderr);
    await assert.rejects(stat(join(s.cache, foreign)), { code: 'ENOENT' });
  });

  it('kill -9 while the cache fills leaves only whole, verified files (or none), and the next backup uses them', async (t) => {
    const s = await agentOverLink(t);
    await rm(s.cache, { recursive: true });
    const child = cliAsync(['agent', 'backup-now', '--json'], s.env);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Killed as soon as the first cached file appears: the run is then filling the cache.
    while ((await cachedFiles(s.cache).catch(() => [])).length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;
    for (const file of await cachedFiles(s.cache)) {
      assert.equal(fileId(await readFile(join(s.cache, file)), 'blake3'), file.split('/').at(-1), `${file} is whole`);
    }
    const after = await run(['agent', 'backup-now', '--json'], s.env);
    assert.equal(after.code, 0, after.stderr);
    const warm = await unchangedBackup(s);
    assert.ok(warm.bytesDown <= 256 * 1024, `received ${warm.bytesDown} bytes after the cache was refilled`);
  });
});
