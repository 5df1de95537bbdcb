import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { BIN, cli, json, PASSWORD, tempDir } from './cli-harness.js';

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * The CLI on a real pseudo-terminal: util-linux `script` runs it with a pty as its stdin,
 * stdout and stderr and copies what the terminal got (both streams, control characters and
 * all) to its own stdout. `-e` passes the command's exit code on.
 */
function onTerminal(args: string[], env: Record<string, string> = {}): { code: number; screen: string } {
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], {
    env: { ...process.env, DRIVESEED_PASSWORD: PASSWORD, COLUMNS: '160', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, screen: r.stdout };
}

/** restic's status line: [elapsed] percent, files and bytes done, of the total, errors. */
const FINAL_STATUS = /\[\d+:\d{2}\] {2}100\.00% {2}(\d+) files [\d.]+ (?:B|KiB|MiB), total (\d+) files [\d.]+ (?:B|KiB|MiB), 0 errors/;
/** Anything but a newline below 0x20, and DEL: what a log or a pipe must never get. */
const hasControl = (text: string) => [...text].some((c) => (c < ' ' && c !== '\n') || c === '\x7f');

async function repoWithData(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await tempDir(t);
  const repo = join(dir, 'repo');
  const data = join(dir, 'data');
  await writeSampleTree(data, 4, 60);
  await mkdir(join(data, 'more'));
  await writeFile(join(data, 'more', 'big.bin'), Buffer.alloc(3_000_000, 9));
  assert.equal(cli(['init', '--repo', repo]).code, 0);
  return { dir, repo, data };
}

describe('progress on a terminal, on a pipe and as JSON (issue 18)', () => {
  it('on a terminal: a line redrawn in place, ending with restic’s final status, then the summary', async (t) => {
    const s = await repoWithData(t);
    const r = onTerminal(['backup', '--repo', s.repo, s.data]);
    assert.equal(r.code, 0, r.screen);
    assert.ok(r.screen.includes('\r'), 'the line is redrawn in place');
    assert.ok(r.screen.includes('\x1b[K'), 'each redraw erases what a longer line left');
    const final = FINAL_STATUS.exec(r.screen);
    assert.ok(final, `no final status line in ${JSON.stringify(r.screen)}`);
    assert.equal(final[1], final[2], 'at the end the files done are the total');
    const summary = json(cli(['snapshots', '--repo', s.repo, '--json']))[0].summary;
    assert.equal(Number(final[2]), summary.totalFiles);
    assert.match(r.screen, /\n(?:\r)?files: \d+ new, 0 changed, 0 unchanged; /, 'the summary follows on a line of its own');
  });

  it('a restore on a terminal shows files and bytes of the total, and never an ETA before it can know one', async (t) => {
    const s = await repoWithData(t);
    assert.equal(cli(['backup', '--repo', s.repo, s.data]).code, 0);
    const r = onTerminal(['restore', '--repo', s.repo, 'latest', '--target', join(s.dir, 'out')]);
    assert.equal(r.code, 0, r.screen);
    for (const eta of r.screen.matchAll(/ETA (\S+)/g)) assert.match(eta[1], /^(--:--|\d{2}:\d{2}|\d+:\d{2}:\d{2})$/);
    assert.match(r.screen, /restored \d+ files/);
  });

  it('on a pipe: silent by default; with DRIVESEED_PROGRESS_FPS, plain lines with no control characters', async (t) => {
    const s = await repoWithData(t);
    const quiet = cli(['backup', '--repo', s.repo, s.data]);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '', 'the contract: quiet without a terminal');
    const r = cli(['backup', '--repo', s.repo, s.data, '--force'], { DRIVESEED_PROGRESS_FPS: '20' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.ok(lines.length >= 1);
    for (const line of lines) assert.match(line, /^\[\d+:\d{2}\] {2}/);
    assert.match(lines.at(-1)!, FINAL_STATUS);
    assert.equal(hasControl(r.stderr), false, JSON.stringify(r.stderr));
    assert.equal(hasControl(r.stdout), false);
  });

  it('with --json: status messages as JSON lines on stderr, and one document on stdout', async (t) => {
    const s = await repoWithData(t);
    const r = cli(['backup', '--repo', s.repo, s.data, '--json'], { DRIVESEED_PROGRESS_FPS: '20' });
    assert.equal(r.code, 0, r.stderr);
    const messages = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(messages.length >= 1);
    for (const m of messages) assert.equal(m.message_type, 'status');
    const last = messages.at(-1)!;
    assert.equal(last.percent_done, 1);
    const doc = json(r);
    assert.deepEqual([last.files_done, last.total_files, last.bytes_done], [doc.totalFiles, doc.totalFiles, doc.totalBytes]);
  });
});
