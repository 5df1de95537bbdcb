import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './azurite.js';
import { aptInstall } from './apt-install.js';

/** Debian's Python: its aiosmtpd package is installed for it, not for another python3 first on PATH. */
const PYTHON = '/usr/bin/python3';

function hasAiosmtpd(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
}

/**
 * Debian's aiosmtpd (a real RFC 5321 server, python3-aiosmtpd), installed on first use as the
 * browser tests install Chromium: the alert tests mail through it (tests run as root in CI).
 */
export function ensureAiosmtpd(): void {
  if (hasAiosmtpd()) return;
  aptInstall(['python3-aiosmtpd'], 'the alert tests need an SMTP server');
  if (!hasAiosmtpd()) throw new Error(`apt-get installed python3-aiosmtpd, but ${PYTHON} cannot import aiosmtpd`);
}

export interface ReceivedMail {
  headers: Record<string, string>;
  /** The text, decoded from quoted-printable where it was sent so. */
  text: string;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:PORT, for service start --smtp. */
  url: string;
  /** Every message received so far, in the order the server stored them. */
  messages(): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

/** aiosmtpd on a free loopback port, storing each message it accepts in a Maildir the test reads. */
export async function startSmtpSink(): Promise<SmtpSink> {
  ensureAiosmtpd();
  const dir = await mkdtemp(join(tmpdir(), 'smtp-sink-'));
  const maildir = join(dir, 'Maildir');
  const port = await freePort();
  const child: ChildProcess = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  await untilGreeting(port, child, () => stderr);
  return {
    url: `smtp://127.0.0.1:${port}`,
    async messages() {
      const folder = join(maildir, 'new');
      const names = existsSync(folder) ? (await readdir(folder)).sort() : [];
      return Promise.all(names.map(async (name) => parseMail(await readFile(join(folder, name), 'utf8'))));
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Ready when the server says 220; the process dying first is an error with its output. */
async function untilGreeting(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (child.exitCode !== null) throw new Error(`aiosmtpd exited ${child.exitCode}: ${stderr()}`);
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (d) => {
        socket.end('QUIT\r\n');
        resolve(d.toString().startsWith('220'));
      });
      socket.once('error', () => resolve(false));
    });
    if (greeted) return;
    await sleep(50);
  }
  throw new Error(`aiosmtpd did not greet on port ${port}: ${stderr()}`);
}

function parseMail(raw: string): ReceivedMail {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = text.slice(0, end).replace(/\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 2);
  if ((headers['content-transfer-encoding'] ?? '').toLowerCase() === 'quoted-printable')
    body = Buffer.from(
      body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  return { headers, text: body };
}
