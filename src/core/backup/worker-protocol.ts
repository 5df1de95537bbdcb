import type { BlobIdScheme } from '../repo/crypto.js';
import type { FileIdScheme } from '../repo/ids.js';
import type { PackEntry } from '../repo/master-index.js';

/* Messages between the archiver (main thread) and its chunk workers. */

export interface WorkerInit {
  encryption: Uint8Array;
  mac: Uint8Array;
  blobIds: BlobIdScheme;
  fileIds: FileIdScheme;
  chunkerSeed: Uint8Array;
  level: number;
  /** The pack buffer this worker starts with (transferred, not copied). */
  packBuffer: ArrayBuffer;
}

export interface FileJob {
  path: string;
}

/** main → worker */
export type ToWorker =
  | { kind: 'task'; task: number; files: FileJob[] }
  /** Cut a large file, a range at a time (`cuts`): ranges it seals itself, and ranges for any worker to seal. */
  | { kind: 'scan'; task: number; path: string }
  /** Read, hash, compress and seal chunks of known lengths from `offset` of a file another worker cut. */
  | { kind: 'range'; task: number; path: string; offset: number; lengths: number[] }
  /** A range the scanner handed out was sealed by a worker. */
  | { kind: 'rangeDone' }
  /** Hash, compress and seal chunks cut on main (a stream's): back to back in `buffer` (transferred), of these lengths. */
  | { kind: 'chunks'; task: number; buffer: ArrayBuffer; lengths: number[] }
  | { kind: 'want'; want: boolean[] }
  /** A pack buffer (transferred) lent to the worker after it handed its full one over. */
  | { kind: 'buffer'; buffer: ArrayBuffer }
  /** Hand over the pack being built, even if it is not full (the end of a backup). */
  | { kind: 'flush' };

/** What an fstat of the opened file says, for tree nodes (docs/format.md, Trees). */
export interface FileStat {
  mode: number;
  mtimeNs: string;
  uid: number;
  gid: number;
  inode: number;
  dev: number;
  /** Not kept in the tree: with ctimeNs, what tells a change while the file was read. */
  size: number;
  ctimeNs: string;
}

export interface FileResult {
  content: string[];
  size: number;
  /** The file's metadata, taken from the descriptor that was read. */
  stat?: FileStat;
  /** The file changed while it was read (changed-while-read.ts): why. */
  changed?: string;
  error?: string;
}

/** worker → main */
export type FromWorker =
  | { kind: 'query'; ids: string[] }
  /**
   * The next range of the file a `scan` task cuts, in file order: its chunk lengths, and the
   * blob ids when the scanner seals the range itself (else any worker gets it as a `range` task).
   */
  | { kind: 'cuts'; task: number; lengths: number[]; content?: string[] }
  /** A finished pack: bytes [0, length) of `buffer` (transferred); the worker waits for another buffer. */
  | { kind: 'pack'; buffer: ArrayBuffer; length: number; entry: PackEntry }
  /** `buffer`: a `chunks` task's buffer, transferred back to be filled again (reused, not left to the garbage collector). */
  | { kind: 'done'; task: number; results: FileResult[]; buffer?: ArrayBuffer }
  | { kind: 'flushed' };
