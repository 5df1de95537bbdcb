import { constants } from 'node:fs';
import type { BlobIdScheme } from '../repo/crypto.js';

/* Messages between the restorer (main thread) and its worker threads. */

export interface RestoreWorkerInit {
  encryption: Uint8Array;
  mac: Uint8Array;
  blobIds: BlobIdScheme;
  /** Recompute every data blob's id from its plaintext (restore --verify). */
  verifyIds: boolean;
}

/** One blob's sealed bytes in a pack file on a local disk. */
export interface LocalBlob {
  id: string;
  packFile: string;
  offset: number;
  length: number;
}

/** Metadata a worker applies once a file's bytes are written (through the descriptor it wrote). */
export interface FileMetaJob {
  mode: number;
  /** Seconds since the epoch, fractional: what futimes takes. */
  mtime: number;
  /** Owner to set, only when running as root. */
  owner?: { uid: number; gid: number };
}

/**
 * Blobs written back to back from file offset `at`. `create` truncates (a whole file);
 * otherwise the file exists and this is one segment of a large file split across workers.
 */
export interface FileJob {
  target: string;
  at: number;
  create: boolean;
  blobs: LocalBlob[];
  meta?: FileMetaJob;
}

/**
 * How every restored file is opened for writing: never through a symlink at the target path
 * (planted there, or a link of the snapshot's own), so a file lands where its name says.
 */
export const CREATE_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** main → worker */
export type ToRestoreWorker =
  /** Files whose packs are on a local disk: the worker reads, decodes and writes them whole. */
  | { kind: 'files'; batch: number; files: FileJob[] }
  /** One blob main fetched from a remote store, written at `offset` of an already open file. */
  | { kind: 'blob'; job: number; id: string; sealed: Uint8Array; fd: number; offset: number };

export interface JobResult {
  bytes: number;
  error?: string;
}

/** worker → main */
export type FromRestoreWorker = { kind: 'files'; batch: number; results: JobResult[] } | ({ kind: 'blob'; job: number } & JobResult);
