import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Chunker, gearTable, MAX_CHUNK } from '../repo/chunker.js';
import { blobIdFunction, SEAL_OVERHEAD, sealInto } from '../repo/crypto.js';
import { fileId } from '../repo/ids.js';
import { encodePayload } from '../repo/compression.js';
import { blobAad, PACK_TARGET_SIZE, PackBuilder } from '../repo/pack.js';
import type { FileJob, FileResult, FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';
import { ZeroChunkIds } from './zero-runs.js';
import { changeWhileRead, fileStatOf } from './changed-while-read.js';

/*
 * One of the archiver's worker threads: read → chunk → id → (ask main which ids are new) →
 * compress → encrypt → pack. Main keeps the only copy of the index, so dedup is exact across
 * workers; one query per group of chunks (not per chunk) keeps the round trips cheap.
 *
 * Each worker builds its own data pack, sealing blobs straight into a pack buffer that main lent
 * it (transferred, never copied), and hands over whole packs (bytes, id and header entries). Main
 * only uploads them: no per-blob message, no per-blob buffer whose memory lives until main's
 * next garbage collection, no pack hashing on main. Waiting for a free buffer is the backpressure.
 *
 * Chunks are views into one large read buffer, never copies: its bytes move only after the
 * group of chunks that points into them was sealed.
 */

const init = workerData as WorkerInit;
const encryption = Buffer.from(init.encryption);
const blobIdOf = blobIdFunction(init.blobIds, Buffer.from(init.mac));
const port = parentPort!;
/** A hole's chunks are not hashed: one id per length (zero-runs.ts). */
const zeroIds = new ZeroChunkIds(blobIdOf);

/** Bytes the read buffer holds: a group of at least 4 MiB of chunks plus one maximal chunk of slack. */
const BUFFER_SIZE = 8 * 1024 * 1024;

interface PendingChunk {
  id: string;
  data: Buffer;
}

let wantResolver: ((want: boolean[]) => void) | undefined;
let bufferResolver: ((buffer: ArrayBuffer) => void) | undefined;
/** The pack buffer main lent this worker, and the layout of the pack being sealed into it. */
let packBuffer = Buffer.from(init.packBuffer);
let pack = new PackBuilder(packBuffer.length);

port.on('message', (msg: ToWorker) => {
  switch (msg.kind) {
    case 'want':
      wantResolver?.(msg.want);
      return;
    case 'buffer':
      bufferResolver?.(msg.buffer);
      return;
    case 'task':
      afterQueued(() => runTask(msg.task, msg.files));
      return;
    case 'scan':
      afterQueued(async () => send({ kind: 'done', task: msg.task, results: [await scanFile(msg.task, msg.path)] }));
      return;
    case 'range':
      afterQueued(async () => send({ kind: 'done', task: msg.task, results: [await chunkRange(msg.path, msg.offset, msg.lengths)] }));
      return;
    case 'rangeDone':
      handedOut--;
      return;
    case 'chunks':
      afterQueued(async () => {
        const result = await sealChunks(Buffer.from(msg.buffer), msg.lengths);
        send({ kind: 'done', task: msg.task, results: [result], buffer: msg.buffer }, [msg.buffer]);
      });
      return;
    case 'flush':
      afterQueued(async () => {
        await group.flush();
        await finishPack();
        send({ kind: 'flushed' });
      });
      return;
  }
});

/**
 * Tasks (and the final flush) run one after another, in arrival order: main keeps a second
 * task queued here, so a worker that finishes one starts the next at once instead of waiting
 * for main to handle its answer and send more (main is busiest exactly when files are small).
 */
let queue: Promise<void> = Promise.resolve();
function afterQueued(step: () => Promise<void>): void {
  queue = queue.then(step);
}

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function ask(ids: string[]): Promise<boolean[]> {
  return new Promise((resolve) => {
    wantResolver = resolve;
    send({ kind: 'query', ids });
  });
}

/** Hands the pack being built to main and waits until main lends another buffer. */
async function finishPack(): Promise<void> {
  if (pack.blobs.length === 0) return;
  const length = pack.writeTail(encryption, packBuffer);
  const id = fileId(packBuffer.subarray(0, length), init.fileIds);
  const next = new Promise<ArrayBuffer>((resolve) => (bufferResolver = resolve));
  const buffer = packBuffer.buffer as ArrayBuffer;
  send({ kind: 'pack', buffer, length, entry: { id, size: length, blobs: pack.blobs } }, [buffer]);
  packBuffer = Buffer.from(await next);
  pack = new PackBuilder(packBuffer.length);
}

async function addBlob(id: string, data: Buffer): Promise<void> {
  const payload = encodePayload(data, init.level);
  const sealedLength = payload.length + SEAL_OVERHEAD;
  if (!pack.fits(sealedLength)) await finishPack();
  sealInto(encryption, payload, blobAad('data', id), packBuffer, pack.size);
  pack.commit('data', id, sealedLength, data.length);
  if (pack.size >= PACK_TARGET_SIZE) await finishPack();
}

/** The chunks cut since the last flush, all views into the current read buffer. */
class Group {
  private chunks: PendingChunk[] = [];

  add(data: Buffer): string {
    const id = zeroIds.idIfZero(data) ?? blobIdOf(data);
    this.chunks.push({ id, data });
    return id;
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const chunks = this.chunks;
    this.chunks = [];
    const want = await ask(chunks.map((c) => c.id));
    for (let i = 0; i < chunks.length; i++) {
      if (want[i]) await addBlob(chunks[i].id, chunks[i].data);
    }
  }
}

/**
 * The read window [start, end) of one buffer; bytes before start belong to the group. When too
 * little room is left for a maximal chunk, the group is sealed first (its chunks are views of
 * the buffer) and the unchunked rest moves to the front: one buffer, not two used in turn.
 */
class Reader {
  /** Files are read straight into the chunker's memory, where its scan runs. */
  private readonly chunker = new Chunker(gearTable(init.chunkerSeed), BUFFER_SIZE);
  readonly buffer = this.chunker.buffer;
  start = 0;
  end = 0;

  /** Reads more of fd after `end`, making room first when needed. */
  async fill(fd: number, group: Group): Promise<number> {
    if (BUFFER_SIZE - this.end < MAX_CHUNK) {
      await group.flush();
      this.buffer.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    const n = readSync(fd, this.buffer, this.end, BUFFER_SIZE - this.end, null);
    this.end += n;
    return n;
  }

  /** The next chunk's length; 0 when nothing is left at EOF; -1 when more bytes must be read first. */
  nextCut(eof: boolean): number {
    return this.chunker.nextCut(this.start, this.end, eof);
  }
}

/** One reader per worker for its whole life: its buffers are the worker's main memory. */
const reader = new Reader();

/**
 * The chunks not yet sealed, across tasks: a task is answered as soon as its files are cut and
 * their ids known, and the group is sealed when the read buffer fills or at the final flush —
 * not at the end of every task, which made the worker wait for main's dedup answer before it
 * could start the next task. Main stores nothing that refers to these blobs before drain.
 */
const group = new Group();

async function runTask(task: number, files: FileJob[]): Promise<void> {
  const results: FileResult[] = [];
  for (const file of files) results.push(await chunkFile(file.path));
  send({ kind: 'done', task, results });
}

/**
 * Opened without following symlinks and without blocking (a fifo that replaced a file must not
 * hang the worker); the fstat of the descriptor is the node's metadata, so main need not lstat
 * a new file at all.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

async function chunkFile(path: string): Promise<FileResult> {
  const content: string[] = [];
  const result = await cutFile(path, (length) => {
    content.push(group.add(reader.buffer.subarray(reader.start, reader.start + length)));
    reader.start += length;
  });
  return { ...result, content: result.error === undefined ? content : [] };
}

/**
 * Reads a file through the reader's buffer and hands each chunk's length to `onCut`, which
 * finds the chunk at reader.start and moves reader.start past it. Returns the bytes read and
 * the descriptor's fstat, or the error.
 */
async function cutFile(path: string, onCut: (length: number) => void): Promise<FileResult> {
  let size = 0;
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    return { content: [], size, error: (e as Error).message };
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) return { content: [], size, error: 'not a regular file any more' };
    const stat = fileStatOf(st);
    // Cut while the bytes read decide a cut, and read only when they do not: refilling as soon
    // as less than a maximal chunk was left moved ~3.5 MiB to the buffer's front for every
    // ~4.5 MiB of a large file. A cut depends only on the bytes before it, so the cuts are the same.
    let eof = false;
    for (;;) {
      const len = reader.nextCut(eof);
      if (len > 0) {
        onCut(len);
      } else if (eof) {
        break;
      } else {
        const n = await reader.fill(fd, group);
        if (n === 0) eof = true;
        size += n;
      }
    }
    const changed = changeWhileRead(stat, fileStatOf(fstatSync(fd, { bigint: true })));
    return { content: [], size, stat, ...(changed ? { changed } : {}) };
  } catch (e) {
    return { content: [], size, error: (e as Error).message };
  } finally {
    closeSync(fd);
  }
}

/**
 * Chunks a stream's reader cut on main. Sealed before the task is answered: the group's chunks
 * are views of this message's buffer, and a stream's batches held until the final flush would
 * keep the whole stream in memory.
 */
async function sealChunks(data: Buffer, lengths: number[]): Promise<FileResult> {
  const content: string[] = [];
  let at = 0;
  for (const length of lengths) {
    content.push(group.add(data.subarray(at, at + length)));
    at += length;
  }
  await group.flush();
  return { content, size: at };
}

/** A scanned file goes out in ranges of chunks of about this many bytes. */
const RANGE_BYTES = 8 * 1024 * 1024;
/** Ranges handed out and not sealed yet beyond which the scanner seals its next range itself. */
const HANDED_OUT_AHEAD = 2;
let handedOut = 0;

/**
 * A large file is cut by one worker and sealed by all: cutting (read and gear scan) runs at
 * well over a GB/s, the hashing, compression and sealing behind it at a few hundred MB/s, so
 * one worker alone left the other core idle for a whole VM image. The scanning worker hands
 * a range of chunks to the others when few of its ranges are waiting for them, and seals it
 * itself otherwise, from the bytes it just read: the work balances itself, the scan never
 * waits, and a handed-out range is read again within two ranges, from the page cache. The
 * cuts are chunkFile's, so are the blobs and their dedup.
 */
async function scanFile(task: number, path: string): Promise<FileResult> {
  let lengths: number[] = [];
  let content: string[] = [];
  let rangeBytes = 0;
  let keep = false;
  const endRange = () => {
    if (keep) send({ kind: 'cuts', task, lengths, content });
    else {
      handedOut++;
      send({ kind: 'cuts', task, lengths });
    }
    lengths = [];
    content = [];
    rangeBytes = 0;
  };
  const result = await cutFile(path, (length) => {
    if (lengths.length === 0) keep = handedOut >= HANDED_OUT_AHEAD;
    if (keep) content.push(group.add(reader.buffer.subarray(reader.start, reader.start + length)));
    reader.start += length;
    lengths.push(length);
    rangeBytes += length;
    if (rangeBytes >= RANGE_BYTES) endRange();
  });
  if (lengths.length > 0 && result.error === undefined) endRange();
  return result;
}

/** Chunks of known lengths at `offset`; a file that got shorter since its scan gives what it still has. */
async function chunkRange(path: string, offset: number, lengths: number[]): Promise<FileResult> {
  const content: string[] = [];
  let size = 0;
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    return { content, size, error: (e as Error).message };
  }
  try {
    for (const length of lengths) {
      if (BUFFER_SIZE - reader.end < length) {
        await group.flush();
        reader.start = reader.end = 0;
      }
      const n = readFully(fd, reader.buffer, reader.end, length, offset + size);
      if (n > 0) content.push(group.add(reader.buffer.subarray(reader.end, reader.end + n)));
      reader.end += n;
      reader.start = reader.end;
      size += n;
      if (n < length) return { content, size, changed: `it ended at ${offset + size} bytes, before what its scan read` };
    }
    return { content, size };
  } catch (e) {
    return { content: [], size, error: (e as Error).message };
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, buffer: Buffer, at: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, at + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
