import { DriveseedError } from '../errors.js';
import type { Id } from './ids.js';

export const SNAPSHOT_VERSION = 1;

export interface SnapshotSummary {
  filesNew: number;
  filesChanged: number;
  filesUnchanged: number;
  dirs: number;
  bytesRead: number;
  bytesAdded: number;
  totalFiles: number;
  totalBytes: number;
  errors: number;
  durationMs: number;
}

/** A snapshot names a root tree and says what was backed up, when, where and by whom. */
export interface Snapshot {
  version: number;
  time: string;
  tree: Id;
  paths: string[];
  hostname: string;
  username: string;
  tags: string[];
  excludes: string[];
  parent?: Id;
  summary?: SnapshotSummary;
}

export interface StoredSnapshot extends Snapshot {
  id: Id;
}

export function decodeSnapshot(value: unknown, what: string): Snapshot {
  const snap = value as Snapshot;
  if (typeof snap !== 'object' || snap === null || typeof snap.tree !== 'string') {
    throw new DriveseedError('CORRUPT', `${what}: not a snapshot`);
  }
  if (snap.version !== SNAPSHOT_VERSION) {
    throw new DriveseedError('UNSUPPORTED_VERSION', `${what}: snapshot version ${JSON.stringify(snap.version)} is not supported`);
  }
  return snap;
}

/** `latest`, a full id or a unique prefix of one. */
export function findSnapshot(snapshots: readonly StoredSnapshot[], ref: string): StoredSnapshot {
  if (ref === 'latest') {
    const latest = [...snapshots].sort(byTime).at(-1);
    if (!latest) throw new DriveseedError('NOT_FOUND', 'the repository has no snapshots yet');
    return latest;
  }
  const matches = snapshots.filter((s) => s.id.startsWith(ref.toLowerCase()));
  if (matches.length === 0) throw new DriveseedError('NOT_FOUND', `no snapshot matches "${ref}"`, { hint: 'list them with `driveseed snapshots`' });
  if (matches.length > 1) throw new DriveseedError('AMBIGUOUS', `"${ref}" matches ${matches.length} snapshots; give more of the id`);
  return matches[0];
}

export function byTime(a: Snapshot, b: Snapshot): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
}
