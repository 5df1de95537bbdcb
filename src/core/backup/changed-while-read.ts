import type { BigIntStats } from 'node:fs';
import type { FileStat } from './worker-protocol.js';

/*
 * A file that changes while it is read (a running VM's disk image, a log being written) is
 * stored as read, which may be no state the file ever had. As restic ("file changed while
 * reading"), the backup compares the file's stat before and after reading it, says so in a
 * warning and marks the node (docs/format.md, "Files changed while read").
 */

/** What a tree node keeps of a stat, and the size and ctime that tell a change while reading. */
export function fileStatOf(st: BigIntStats): FileStat {
  return {
    mode: Number(st.mode & 0o7777n),
    mtimeNs: st.mtimeNs.toString(),
    uid: Number(st.uid),
    gid: Number(st.gid),
    inode: Number(st.ino),
    dev: Number(st.dev),
    size: Number(st.size),
    ctimeNs: st.ctimeNs.toString(),
  };
}

/**
 * Why the file read between `before` and `after` may not be one state of it, or undefined.
 * Only what changes when the file is written counts: not its bytes read against its size,
 * which differ on /proc and /sys without any change.
 */
export function changeWhileRead(before: FileStat, after: FileStat): string | undefined {
  if (after.inode !== before.inode || after.dev !== before.dev) return 'it was replaced by another file';
  if (after.size !== before.size) return `its size went from ${before.size} to ${after.size} bytes`;
  if (after.mtimeNs !== before.mtimeNs) return 'its modification time changed';
  if (after.ctimeNs !== before.ctimeNs) return 'its status changed (ctime)';
  return undefined;
}

/** The warning a backup gives for such a file. */
export function changedWhileReadMessage(reason: string): string {
  return `file changed while reading: ${reason}; stored as read, marked in the snapshot`;
}
