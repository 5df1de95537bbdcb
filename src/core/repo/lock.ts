import { hostname } from 'node:os';
import { DriveseedError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { fileId, shortId } from './ids.js';
import { idFromName, LOCKS_DIR } from './layout.js';
import { mapLimited } from '../util/semaphore.js';
import { decodeSealedJson, encodeSealedJson } from './sealed-file.js';

/*
 * Locks are files in locks/. Backups take a shared lock, prune and forget an exclusive one.
 * A lock is stale when it was not refreshed for STALE_AFTER_MS, or when it belongs to this
 * host and its process is gone (the kill -9 case), so nobody waits for a dead writer.
 */

/** A held lock is written anew this often, so that others see its writer is alive. */
export const REFRESH_EVERY_MS = 5 * 60 * 1000;
export const STALE_AFTER_MS = 30 * 60 * 1000;
const LOCKS_READ_AT_ONCE = 8;

export interface LockInfo {
  time: string;
  exclusive: boolean;
  hostname: string;
  pid: number;
  command: string;
}

export interface StoredLock extends LockInfo {
  name: string;
}

/**
 * A lock's JSON, checked: its fields go into the LOCKED message (one line, so a command with a
 * newline is refused) and into staleness (a time that does not parse would never go stale, a
 * pid that is not a positive integer would signal a process group).
 */
export function decodeLock(value: unknown, what: string): LockInfo {
  const lock = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<keyof LockInfo, unknown>>;
  const damaged = (field: string) =>
    new DriveseedError('CORRUPT', `${what}: lock is damaged (${field})`, { hint: `if no driveseed is running, delete ${what}` });
  if (typeof lock.time !== 'string' || Number.isNaN(Date.parse(lock.time))) throw damaged('time');
  if (typeof lock.exclusive !== 'boolean') throw damaged('exclusive');
  if (typeof lock.hostname !== 'string' || hasControlCharacter(lock.hostname)) throw damaged('hostname');
  if (!Number.isSafeInteger(lock.pid) || (lock.pid as number) <= 0) throw damaged('pid');
  if (typeof lock.command !== 'string' || hasControlCharacter(lock.command)) throw damaged('command');
  return { time: lock.time, exclusive: lock.exclusive, hostname: lock.hostname, pid: lock.pid as number, command: lock.command };
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

export function isStale(lock: LockInfo, now = Date.now()): boolean {
  if (now - Date.parse(lock.time) > STALE_AFTER_MS) return true;
  return lock.hostname === hostname() && !processAlive(lock.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Every lock in the store but `except` (one's own, known already), read a few at a time: over
 * a long link each read is a round trip, and a repository holding thousands of lock files
 * (stale, or planted) must not start thousands of reads at once.
 */
export async function readLocks(store: BlobStore, key: Buffer, except?: string): Promise<StoredLock[]> {
  const names: string[] = [];
  for await (const info of store.list(LOCKS_DIR)) if (info.name !== except) names.push(info.name);
  const read = await mapLimited(names, LOCKS_READ_AT_ONCE, (name) => readLock(store, key, name));
  return read.filter((lock): lock is StoredLock => lock !== undefined);
}

async function readLock(store: BlobStore, key: Buffer, name: string): Promise<StoredLock | undefined> {
  try {
    return { ...decodeLock(decodeSealedJson(key, 'lock', await store.get(name), name), name), name };
  } catch (e) {
    // A lock removed between list and get is simply gone.
    if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    return undefined;
  }
}

export class RepositoryLock {
  private timer?: NodeJS.Timeout;
  private released = false;

  private constructor(
    private readonly store: BlobStore,
    private readonly key: Buffer,
    private readonly info: Omit<LockInfo, 'time'>,
    private name: string,
  ) {}

  /**
   * Writes this process's lock, then looks for conflicting ones. Looking only after writing is
   * enough: of two processes that lock at the same moment, each sees the other's lock, so
   * neither goes on beside an exclusive one; and it costs two round trips, not four, which
   * over a 300 ms link is most of an unchanged backup's time. A conflict found costs a
   * write and a delete, which only a waiting process pays.
   */
  static async acquire(store: BlobStore, key: Buffer, exclusive: boolean, command: string): Promise<RepositoryLock> {
    const info = { exclusive, hostname: hostname(), pid: process.pid, command };
    const name = await writeLock(store, key, info);
    const lock = new RepositoryLock(store, key, info, name);
    try {
      await checkConflicts(store, key, exclusive, name);
    } catch (e) {
      await lock.release();
      throw e;
    }
    lock.timer = setInterval(() => void lock.refresh(), REFRESH_EVERY_MS);
    lock.timer.unref();
    return lock;
  }

  private async refresh(): Promise<void> {
    if (this.released) return;
    const old = this.name;
    this.name = await writeLock(this.store, this.key, this.info);
    await this.store.delete(old);
  }

  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.timer);
    await this.store.delete(this.name);
  }
}

async function writeLock(store: BlobStore, key: Buffer, info: Omit<LockInfo, 'time'>): Promise<string> {
  const bytes = encodeSealedJson(key, 'lock', { ...info, time: new Date().toISOString() });
  // SHA-256 in every version: a lock's name only has to be unique, and locks never travel.
  const name = LOCKS_DIR + fileId(bytes, 'sha256');
  await store.put(name, bytes);
  return name;
}

async function checkConflicts(store: BlobStore, key: Buffer, exclusive: boolean, own: string): Promise<void> {
  for (const lock of await readLocks(store, key, own)) {
    if (isStale(lock)) continue;
    if (exclusive || lock.exclusive) {
      throw new DriveseedError(
        'LOCKED',
        `repository is locked ${lock.exclusive ? 'exclusively ' : ''}by ${lock.command} (pid ${lock.pid} on ${lock.hostname}, since ${lock.time}, lock ${shortId(idFromName(lock.name))})`,
        { hint: 'wait for it to finish, or run `driveseed unlock` if that process is gone' },
      );
    }
  }
}
