import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { nextCut, gearTable, MAX_CHUNK } from '../repo/chunker.js';
import { blobIdOf, seal } from '../repo/crypto.js';
import { encodePayload } from '../repo/compression.js';
import { blobAad } from '../repo/pack.js';
import type { FileJob, FileResult, FromWorker, SealedBlobMessage, ToWorker, WorkerInit } from './worker-protocol.js';

/**
 * One of the archiver's worker threads: read → chunk → id → (ask main which ids are new) →
 * compress → encrypt. Main keeps the only copy of the index, so dedup is exact across workers;
 * one query per group of chunks (not per chunk) keeps the round trips cheap.
 *
 * Chunks are views into two large read buffers used in turn, never copies: a buffer is
 * reused only after the group of chunks that points into it was sealed and sent.
 */
const init = workerData as WorkerInit;
const encryption = Buffer.from(init.encryption);
const mac = Buffer.from(init.mac);
const gear = gearTable(init.chunkerSeed);
const port = parentPort!;

/** Bytes a read buffer holds: one group of chunks plus one maximal chunk of slack. */
const BUFFER_SIZE = 8 * 1024 * 1024;

interface PendingChunk {
  id: string;
  data: Buffer;
}

let wantResolver: ((want: boolean[]) => void) | undefined;

port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'want') wantResolver?.(msg.want);
  else void runTask(msg.task, msg.files);
});

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function ask(task: number, ids: string[]): Promise<boolean[]> {
  return new Promise((resolve) => {
    wantResolver = resolve;
    send({ kind: 'query', task, ids });
  });
}

/** The chunks cut since the last flush, all views into the current read buffer. */
class Group {
  private chunks: PendingChunk[] = [];

  constructor(private readonly task: number) {}

  add(data: Buffer): string {
    const id = blobIdOf(mac, data);
    this.chunks.push({ id, data });
    return id;
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const chunks = this.chunks;
    this.chunks = [];
    const want = await ask(this.task, chunks.map((c) => c.id));
    const blobs: SealedBlobMessage[] = [];
    chunks.forEach((chunk, i) => {
      if (!want[i]) return;
      const sealed = seal(encryption, encodePayload(chunk.data, init.level), blobAad('data', chunk.id));
      blobs.push({ id: chunk.id, sealed, rawLength: chunk.data.length });
    });
    if (blobs.length > 0) send({ kind: 'blobs', task: this.task, blobs }, transferList(blobs));
  }
}

/** Transfers only buffers that own their whole ArrayBuffer (small ones live in a shared pool). */
function transferList(blobs: SealedBlobMessage[]): ArrayBuffer[] {
  return blobs
    .map((b) => b.sealed)
    .filter((s) => s.byteOffset === 0 && s.byteLength === s.buffer.byteLength)
    .map((s) => s.buffer as ArrayBuffer);
}

/** The read window [start, end) of the current buffer; bytes before start belong to the group. */
class Reader {
  private buffers = [Buffer.allocUnsafe(BUFFER_SIZE), Buffer.allocUnsafe(BUFFER_SIZE)];
  start = 0;
  end = 0;

  get buffer(): Buffer {
    return this.buffers[0];
  }

  /** Reads more of fd after `end`; when the buffer is full, flushes the group and switches buffers. */
  async fill(fd: number, group: Group): Promise<number> {
    if (BUFFER_SIZE - this.end < MAX_CHUNK) {
      const [current, spare] = this.buffers;
      current.copy(spare, 0, this.start, this.end);
      await group.flush();
      this.buffers = [spare, current];
      this.end -= this.start;
      this.start = 0;
    }
    const n = readSync(fd, this.buffer, this.end, BUFFER_SIZE - this.end, null);
    this.end += n;
    return n;
  }
}

/** One reader per worker for its whole life: its buffers are the worker's main memory. */
const reader = new Reader();

async function runTask(task: number, files: FileJob[]): Promise<void> {
  const group = new Group(task);
  const results: FileResult[] = [];
  for (const file of files) results.push(await chunkFile(file.path, reader, group));
  await group.flush();
  send({ kind: 'done', task, results });
}

async function chunkFile(path: string, reader: Reader, group: Group): Promise<FileResult> {
  const content: string[] = [];
  let size = 0;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return { content, size, error: (e as Error).message };
  }
  try {
    let eof = false;
    for (;;) {
      if (!eof && reader.end - reader.start < MAX_CHUNK) {
        const n = await reader.fill(fd, group);
        if (n === 0) eof = true;
        size += n;
        continue;
      }
      if (reader.start === reader.end) break;
      const len = nextCut(gear, reader.buffer, reader.start, reader.end, eof);
      content.push(group.add(reader.buffer.subarray(reader.start, reader.start + len)));
      reader.start += len;
    }
    return { content, size };
  } catch (e) {
    return { content: [], size, error: (e as Error).message };
  } finally {
    closeSync(fd);
  }
}
