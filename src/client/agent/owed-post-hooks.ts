import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runHook, type HookResult } from '../../core/backup/hooks.js';
import { listAll } from '../../core/storage/blob-store.js';
import { FsStore } from '../../core/storage/fs/fs-store.js';
import { agentHome } from './agent-config.js';
import { isAlive } from './job-guard.js';

/*
 * A post hook thaws what the pre hook froze (a database, a file system): if the agent dies
 * between the two (kill -9, a power cut, SIGTERM mid-backup), nothing else ever will. So the
 * post hook is recorded as owed, durably (temp file, fsync, rename), before the pre hook runs,
 * and the record goes once the post hook has run. The next run, and `agent run` as it starts,
 * first runs every post hook owed by a process that is gone: the command recorded, not the
 * policy's current one, since that is what undoes the pre hook that ran.
 */

interface OwedRecord {
  version: 1;
  command: string;
  pid: number;
  since: string;
}

export interface OwedPostHook extends HookResult {
  /** When the run that owed it started its pre hook. */
  owedSince: string;
}

const owedStore = () => new FsStore(join(agentHome(), 'owed-post-hooks'));

/** Records `command` as owed by this process; resolves to what clears the record once it ran. */
export async function owePostHook(command: string): Promise<() => Promise<void>> {
  const store = owedStore();
  const name = `${process.pid}-${randomBytes(6).toString('hex')}.json`;
  const record: OwedRecord = { version: 1, command, pid: process.pid, since: new Date().toISOString() };
  await store.put(name, Buffer.from(JSON.stringify(record) + '\n'));
  return () => store.delete(name);
}

/**
 * Runs the post hooks owed by processes no longer alive, oldest first, and clears each record
 * once its hook ran, whatever its exit status (a failing one is reported, not run forever). A
 * record of a live process (a run going on beside this one) is left: its own run will clear it.
 */
export async function runOwedPostHooks(onOutput?: (chunk: Buffer) => void): Promise<OwedPostHook[]> {
  const store = owedStore();
  const owed: { name: string; record: OwedRecord }[] = [];
  for (const file of await listAll(store, '').catch(() => [])) {
    const record = await readRecord(store, file.name);
    if (!record) {
      await store.delete(file.name); // not one this agent wrote whole: nothing to run
      continue;
    }
    if (record.pid !== process.pid && isAlive(record.pid)) continue;
    owed.push({ name: file.name, record });
  }
  const ran: OwedPostHook[] = [];
  for (const { name, record } of owed.sort((a, b) => a.record.since.localeCompare(b.record.since))) {
    ran.push({ ...(await runHook(record.command, onOutput)), owedSince: record.since });
    await store.delete(name);
  }
  return ran;
}

async function readRecord(store: FsStore, name: string): Promise<OwedRecord | undefined> {
  try {
    const record = JSON.parse((await store.get(name)).toString('utf8')) as Partial<OwedRecord>;
    const valid = record.version === 1 && typeof record.command === 'string' && Number.isInteger(record.pid) && typeof record.since === 'string';
    return valid ? (record as OwedRecord) : undefined;
  } catch {
    return undefined;
  }
}
