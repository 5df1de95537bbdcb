import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { routePath, routes } from '../src/api/routes.js';
import { freePort } from '../src/testing/azurite.js';
import { BIN, cli, tempDir } from './cli-harness.js';
import { stopProcess } from './service-harness.js';

/* The per-tenant shares and timeouts of `service start` (issue 15): flags, their checks, their effect. */

describe('service start: limit flags', () => {
  it('refuses a bad or contradictory limit with exit 2 and one line, before anything is created', async (t) => {
    const dir = await tempDir(t);
    const dataDir = join(dir, 'service');
    const cases: [string[], RegExp][] = [
      [['--upload-memory', 'lots'], /^driveseed: --upload-memory takes a size like 64MiB or 1GiB, not "lots"$/],
      [['--upload-share', '0'], /^driveseed: --upload-share takes a size like 64MiB or 1GiB, not "0"$/],
      [['--uploads-per-subscription', '0'], /^driveseed: --uploads-per-subscription takes a whole number from 1 to 10000, not "0"$/],
      [['--downloads-per-subscription', '2.5'], /^driveseed: --downloads-per-subscription takes a whole number from 1 to 10000, not "2\.5"$/],
      [['--event-streams-per-subscription', '-1'], /^driveseed: --event-streams-per-subscription takes a whole number from 1 to 10000, not "-1"$/],
      [['--body-idle-timeout', '1e3'], /^driveseed: --body-idle-timeout takes whole seconds from 1 to 86400, not "1e3"$/],
      [['--body-read-timeout', '100000'], /^driveseed: --body-read-timeout takes whole seconds from 1 to 86400, not "100000"$/],
      [
        ['--upload-memory', '64MiB', '--upload-share', '1GiB'],
        /^driveseed: --upload-share \(1073741824 bytes\) is larger than --upload-memory \(67108864 bytes\)$/,
      ],
      [['--body-idle-timeout', '120', '--body-read-timeout', '60'], /^driveseed: --body-idle-timeout \(120 s\) is longer than --body-read-timeout \(60 s\)$/],
    ];
    for (const [flags, message] of cases) {
      const r = cli(['service', 'start', '--data-dir', dataDir, '--listen', '127.0.0.1:0', ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
      assert.equal(existsSync(dataDir), false, `${flags.join(' ')} created the data directory`);
    }
  });

  it('--help lists every limit and says they are per instance', () => {
    const help = cli(['service', 'start', '--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const flag of [
      '--upload-memory',
      '--upload-share',
      '--uploads-per-subscription',
      '--downloads-per-subscription',
      '--event-streams-per-subscription',
      '--body-idle-timeout',
      '--body-read-timeout',
    ])
      assert.ok(help.stdout.includes(flag), flag);
    assert.match(help.stdout, /limits are per instance/);
  });

  it('the limits given are the ones the running service applies: it says so, and a tenant meets them', async (t) => {
    const dir = await tempDir(t);
    const dataDir = join(dir, 'service');
    const port = await freePort();
    const flags = ['--upload-memory', '8MiB', '--upload-share', '1MiB', '--uploads-per-subscription', '3', '--downloads-per-subscription', '4'];
    flags.push('--event-streams-per-subscription', '2', '--body-idle-timeout', '1', '--body-read-timeout', '60');
    const child = spawn(process.execPath, [BIN, 'service', 'start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => stopProcess(child));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        output += c.toString();
        if (output.includes('listening on')) resolve();
      });
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      child.once('exit', (code) => reject(new Error(`service exited ${code}: ${output}`)));
    });
    assert.match(
      output,
      /^limits per instance: upload memory 8 MiB; per subscription 1 MiB of it, 3 uploads, 4 downloads, 2 event streams; bodies idle 1 s, read 60 s$/m,
    );
    const url = `http://127.0.0.1:${port}`;
    const { subscriptionId, ownerKey } = JSON.parse(await readFile(join(dataDir, 'bootstrap.json'), 'utf8'));
    const headers = { authorization: `OwnerKey ${ownerKey}` };

    // Two event streams, not the default eight.
    const events = url + routePath(routes.subscriptionEvents, { subscriptionId });
    const controllers = [new AbortController(), new AbortController()];
    t.after(() => controllers.forEach((c) => c.abort()));
    for (const controller of controllers) assert.equal((await fetch(events, { headers, signal: controller.signal })).status, 200);
    const third = await fetch(events, { headers });
    assert.equal(third.status, 429);
    assert.match(((await third.json()) as { message: string }).message, /^2 live event streams are open/);

    // A body that stops is cut off after one second, not thirty (bounded, so the default would fail it).
    const ended = await new Promise<string>((resolve) => {
      const req = request(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '200' } });
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', () => resolve('cut off'));
      req.on('close', () => resolve('cut off'));
      req.write('{"grant_ty');
      setTimeout(() => {
        resolve('still open after 15 s');
        req.destroy();
      }, 15_000);
    });
    assert.match(ended, /cut off|answered 408/);
    assert.equal((await fetch(`${url}/health`)).status, 200);
  });
});
