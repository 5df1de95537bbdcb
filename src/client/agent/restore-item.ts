import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { itemPath } from '../../core/backup/command-items.js';
import { dumpFile } from '../../core/backup/dump.js';
import { DriveseedError } from '../../core/errors.js';
import type { FileProblem } from '../../core/repo/index-loader.js';
import type { Repository } from '../../core/repo/repository.js';
import { openSnapshot } from '../../core/repo/snapshot-reader.js';
import type { StoredSnapshot } from '../../core/repo/snapshot.js';

export type ItemSink = { toCommand: string } | { target: string };

/**
 * `agent restore --item NAME`: the item's stored output from a recovery point, into a command's
 * stdin (`psql sales_restored`) or as the file DIR/NAME. The command's exit status decides, as
 * it did for the backup: a psql that failed is a failed restore.
 */
export async function restoreItem(
  repo: Repository,
  ref: string,
  name: string,
  sink: ItemSink,
  onDamagedFile: (problem: FileProblem) => void,
): Promise<{ snapshot: StoredSnapshot; bytes: number }> {
  const snapshot = await openSnapshot(repo, ref, onDamagedFile);
  if (!snapshot.paths.includes(itemPath(name)))
    throw new DriveseedError('NOT_FOUND', `recovery point ${snapshot.id.slice(0, 8)} has no item ${name}`, {
      hint: 'list its items with `driveseed agent policy`',
    });
  if ('target' in sink) {
    await mkdir(sink.target, { recursive: true });
    const out = createWriteStream(join(sink.target, name), { flags: 'wx' });
    const bytes = await intoStream(out, (write) => dumpFile(repo, snapshot, itemPath(name), write));
    return { snapshot, bytes };
  }
  const child = spawn(sink.toCommand, { shell: true, stdio: ['pipe', 'inherit', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let bytes = 0;
  let stoppedReading = false;
  try {
    bytes = await intoStream(child.stdin, (write) => dumpFile(repo, snapshot, itemPath(name), write));
  } catch (e) {
    // A command that stopped reading: its exit status says why, below.
    if (!(e instanceof DriveseedError && e.code === 'IO')) throw e;
    stoppedReading = true;
  }
  const { code, signal, error } = await exited;
  if (error) throw new DriveseedError('NOT_FOUND', `cannot run ${sink.toCommand}: ${error.message}`);
  if (signal || code !== 0)
    throw new DriveseedError('IO', `${sink.toCommand} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}; the item was not restored whole`);
  if (stoppedReading) throw new DriveseedError('IO', `${sink.toCommand} exited before it read the whole item`);
  return { snapshot, bytes };
}

/** Runs `fill` with a writer that waits for `out` to drain, then ends `out` and waits until it is closed. */
async function intoStream(out: Writable, fill: (write: (bytes: Buffer) => Promise<void>) => Promise<number>): Promise<number> {
  let failure: Error | undefined;
  out.on('error', (e) => (failure ??= e));
  const write = (bytes: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      if (failure || out.destroyed) return reject(new DriveseedError('IO', `the item's reader closed: ${failure?.message ?? 'destroyed'}`));
      if (out.write(bytes)) return resolve();
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        if (failure || out.destroyed) reject(new DriveseedError('IO', `the item's reader closed: ${failure?.message ?? 'closed'}`));
        else resolve();
      };
      out.once('drain', done);
      out.once('close', done);
    });
  const bytes = await fill(write);
  await new Promise<void>((resolve) => out.end(resolve));
  if (failure) throw new DriveseedError('IO', `the item's reader failed: ${failure.message}`);
  return bytes;
}
