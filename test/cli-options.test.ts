import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeSampleTree } from '../src/core/backup/sample-tree.js';
import { cli, json, tempDir } from './cli-harness.js';

/** The names a `--help` lists under "Commands:", but for commander's own `help`. */
function commandsListed(help: string): string[] {
  const listing = help.slice(help.indexOf('Commands:'));
  return [...listing.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((name) => name !== 'help');
}

describe('CLI options and commands', () => {
  it('refuses a number option that is not one: exit 2 and one line, before any work', async (t) => {
    const dir = await tempDir(t);
    const env = { DRIVESEED_HOME: join(dir, 'agent') };
    const cases: [string[], RegExp][] = [
      [['backup', '--repo', join(dir, 'repo'), dir, '--threads', 'x'], /^driveseed: not a whole number: x$/],
      [['backup', '--repo', join(dir, 'repo'), dir, '--threads', '1.5'], /^driveseed: not a whole number: 1\.5$/],
      [['forget', '--repo', join(dir, 'repo'), '--keep-last', 'ten'], /^driveseed: not a whole number: ten$/],
      [['certgen', 'export-cert', '--new', '--valid-days', '0x10', '--out', join(dir, 'c.cer')], /^driveseed: not a whole number: 0x10$/],
      [['service', 'start', '--data-dir', join(dir, 'service'), '--listen', '127.0.0.1:99999'], /^driveseed: not a HOST:PORT: 127\.0\.0\.1:99999$/],
      [['agent', 'estimate', dir, '--bandwidth', '10Mbit', '--shipping-days', 'soon'], /--shipping-days must be a number of days, not "soon"/],
      [['agent', 'protect', dir, '--limit-upload', 'fast'], /^driveseed: not a rate: "fast"/],
      [['diskprep', '--staging', dir, '--drive', join(dir, 'drive'), '--capacity', 'big'], /^driveseed: not a size: "big"/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
    }
  });

  it('backs up with the worker threads --threads asks for', async (t) => {
    const dir = await tempDir(t);
    const data = join(dir, 'data');
    await writeSampleTree(data, 2, 10);
    assert.equal(cli(['init', '--repo', join(dir, 'repo')]).code, 0);
    const backup = json(cli(['backup', '--repo', join(dir, 'repo'), data, '--threads', '1', '--json']));
    assert.equal(backup.filesNew, 12);
  });

  it('runs every command and subcommand from its own module, each loaded alone', () => {
    const root = cli(['--help']);
    assert.equal(root.code, 0, root.stderr);
    const paths = commandsListed(root.stdout).flatMap((name) => {
      const help = cli([name, '--help']);
      assert.equal(help.code, 0, `${name}: ${help.stderr}`);
      const subcommands = commandsListed(help.stdout);
      return subcommands.length > 0 ? subcommands.map((sub) => [name, sub]) : [[name]];
    });
    assert.ok(paths.length >= 28, `only ${paths.length} commands listed`);
    for (const path of paths) {
      const help = cli([...path, '--help']);
      assert.equal(help.code, 0, `${path.join(' ')}: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: driveseed ${path.join(' ')} `));
    }
  });
});
