import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { matchesAny } from './path-match.js';

export interface ScanTotals {
  files: number;
  bytes: number;
  /** Set once the walk has finished: the totals are then final. */
  done: boolean;
}

/**
 * What a backup of `paths` will read, counted by a walk of its own beside the backup (restic's
 * scanner), so progress can show a percentage and an ETA before the backup has seen it all.
 * It counts by the same excludes; it is an estimate (a file may change between the two walks,
 * caches and other file systems are counted) and never fails: what it cannot read it skips.
 */
export async function scanTotals(paths: string[], excludes: readonly string[], onUpdate: (totals: ScanTotals) => void): Promise<ScanTotals> {
  const totals: ScanTotals = { files: 0, bytes: 0, done: false };
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    if (st.isFile()) {
      totals.files++;
      totals.bytes += st.size;
      return;
    }
    if (!st.isDirectory()) return;
    const names = await readdir(path).catch(() => [] as string[]);
    for (const name of names) {
      const child = join(path, name);
      if (!matchesAny(child, excludes)) await walk(child);
    }
    onUpdate(totals);
  };
  for (const path of new Set(paths.map((p) => resolve(p)))) await walk(path);
  totals.done = true;
  onUpdate(totals);
  return totals;
}
