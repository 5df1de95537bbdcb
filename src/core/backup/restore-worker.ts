import { closeSync, constants, fchmodSync, fchownSync, fstatSync, ftruncateSync, futimesSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { decodePayloadReusing } from '../repo/compression.js';
import { MAX_CHUNK } from '../repo/chunker.js';
import { blobIdFunction, openInto } from '../repo/crypto.js';
import { blobAad } from '../repo/pack.js';
import {
  CREATE_FILE_FLAGS,
  type FileJob,
  type FromRestoreWorker,
  type JobResult,
  type LocalBlob,
  type RestoreWorkerInit,
  type ToRestoreWorker,
} from './restore-protocol.js';
import { nonZeroRuns } from './zero-runs.js';

/*
 * A restorer thread: decrypt (authenticated, bound to the blob's id) → decompress → with
 * --verify, recompute the id → write at the blob's offset.
 * Writing here, not in main, keeps plaintext from crossing threads. With packs on a local
 * disk a worker does whole files with plain synchronous calls: per file, a handful of
 * system calls instead of a dozen thread-pool round trips and messages (which made the
 * kernel's futex the restore's largest cost on 40k small files).
 */

const init = workerData as RestoreWorkerInit;
const encryption = Buffer.from(init.encryption);
const blobIdOf = blobIdFunction(init.blobIds, Buffer.from(init.mac));
const port = parentPort!;

port.on('message', (msg: ToRestoreWorker) => {
  if (msg.kind === 'files') {
    const results = msg.files.map(restoreFile);
    send({ kind: 'files', batch: msg.batch, results });
    return;
  }
  send({ kind: 'blob', job: msg.job, ...writeBlob(msg.id, Buffer.from(msg.sealed.buffer, msg.sealed.byteOffset, msg.sealed.byteLength), msg.fd, msg.offset) });
});

function send(msg: FromRestoreWorker): void {
  port.postMessage(msg);
}

function writeBlob(id: string, sealed: Buffer, fd: number, offset: number): JobResult {
  try {
    return { bytes: writeAll(fd, decodeBlob(id, sealed), offset) };
  } catch (e) {
    return { bytes: 0, error: (e as Error).message };
  }
}

/** Reused for every blob: sealed bytes, then their payload (each blob is written out before the next is read). */
let sealedScratch: Buffer = Buffer.alloc(0);
let payloadScratch: Buffer = Buffer.alloc(0);

function scratch(current: Buffer, size: number): Buffer {
  return current.length >= size ? current : Buffer.allocUnsafe(Math.max(size, 1024 * 1024));
}

function decodeBlob(id: string, sealed: Buffer): Buffer {
  const what = `data blob ${id}`;
  payloadScratch = scratch(payloadScratch, sealed.length);
  const payload = openInto(encryption, sealed, blobAad('data', id), what, payloadScratch);
  // Every data blob is one chunk: the chunker's maximum bounds what its payload may decode to.
  const plaintext = decodePayloadReusing(payload, what, MAX_CHUNK);
  if (init.verifyIds && blobIdOf(plaintext) !== id) throw new Error(`${what}: content does not match its id`);
  return plaintext;
}

/**
 * Writes `data` at `offset` but for its all-zero blocks, which stay holes: a hole reads back
 * as the same zeros, and a sparse disk image restores to its data's size, not its own. Every
 * file is created empty (O_TRUNC) and written front to back, so what a hole skips is never an
 * old byte; a hole at the end is made by extending the file (extendOver).
 */
function writeAll(fd: number, data: Buffer, offset: number): number {
  for (const [start, end] of nonZeroRuns(data, offset)) {
    let done = start;
    while (done < end) done += writeSync(fd, data, done, end - done, offset + done);
  }
  return data.length;
}

/** A segment opens the file main created, again without following a link. */
const SEGMENT_FLAGS = constants.O_WRONLY | constants.O_NOFOLLOW;

function restoreFile(job: FileJob): JobResult {
  let fd: number;
  try {
    fd = openSync(job.target, job.create ? CREATE_FILE_FLAGS : SEGMENT_FLAGS, 0o600);
  } catch (e) {
    return { bytes: 0, error: (e as Error).message };
  }
  try {
    let at = job.at;
    for (const blob of job.blobs) at += writeAll(fd, decodeBlob(blob.id, readSealed(blob)), at);
    extendOver(fd, at);
    if (job.meta) applyMeta(fd, job.meta);
    return { bytes: at - job.at };
  } catch (e) {
    return { bytes: 0, error: (e as Error).message };
  } finally {
    closeSync(fd);
  }
}

/** A file whose last blobs were holes ends where they end: ftruncate only ever extends it here. */
function extendOver(fd: number, end: number): void {
  if (fstatSync(fd).size < end) ftruncateSync(fd, end);
}

function applyMeta(fd: number, meta: NonNullable<FileJob['meta']>): void {
  if (meta.owner) {
    try {
      fchownSync(fd, meta.owner.uid, meta.owner.gid);
    } catch {
      // An owner this system does not know, or a file system without owners: keep ours, as tar does.
    }
  }
  fchmodSync(fd, meta.mode);
  futimesSync(fd, meta.mtime, meta.mtime);
}

/** Open pack files, most recently used last: a restore walks files, and files share packs. */
const packFds = new Map<string, number>();
const OPEN_PACKS = 32;

function packFd(path: string): number {
  let fd = packFds.get(path);
  if (fd !== undefined) {
    packFds.delete(path);
  } else {
    fd = openSync(path, constants.O_RDONLY);
    if (packFds.size >= OPEN_PACKS) {
      const [oldest, oldestFd] = packFds.entries().next().value as [string, number];
      packFds.delete(oldest);
      closeSync(oldestFd);
    }
  }
  packFds.set(path, fd);
  return fd;
}

function readSealed(blob: LocalBlob): Buffer {
  sealedScratch = scratch(sealedScratch, blob.length);
  const out = sealedScratch.subarray(0, blob.length);
  const fd = packFd(blob.packFile);
  let done = 0;
  while (done < blob.length) {
    const n = readSync(fd, out, done, blob.length - done, blob.offset + done);
    if (n === 0) throw new Error(`${blob.packFile}: range ${blob.offset}+${blob.length} is past the end of the file`);
    done += n;
  }
  return out;
}
