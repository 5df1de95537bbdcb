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
 * a query per group of chunks (not per chunk) keeps the round trips cheap.
 */
const init = workerData as WorkerInit;
const encryption = Buffer.from(init.encryption);
const mac = Buffer.from(init.mac);
const gear = gearTable(init.chunkerSeed);
const port = parentPort!;

/** Chunks held before asking main which are new: bounds a worker's memory to ~2× this. */
const GROUP_BYTES = 16 * 1024 * 1024;
const READ_BUFFER = 2 * MAX_CHUNK + GROUP_BYTES;

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

class Group {
  chunks: PendingChunk[] = [];
  bytes = 0;

  constructor(private readonly task: number) {}

  add(data: Buffer): string {
    // The chunk is copied out of the reusable read buffer: it outlives the next read.
    const copy = Buffer.from(data);
    const id = blobIdOf(mac, copy);
    this.chunks.push({ id, data: copy });
    this.bytes += copy.length;
    return id;
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
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

/** Transfers only buffers that own their whole ArrayBuffer (the pool's small slices do not). */
function transferList(blobs: SealedBlobMessage[]): ArrayBuffer[] {
  return blobs
    .map((b) => b.sealed)
    .filter((s) => s.byteOffset === 0 && s.byteLength === s.buffer.byteLength)
    .map((s) => s.buffer as ArrayBuffer);
}

const readBuffer = Buffer.allocUnsafe(READ_BUFFER);

async function runTask(task: number, files: FileJob[]): Promise<void> {
  const group = new Group(task);
  const results: FileResult[] = [];
  for (const file of files) {
    results.push(await chunkFile(file.path, group));
    if (group.bytes >= GROUP_BYTES) await group.flush();
  }
  await group.flush();
  send({ kind: 'done', task, results });
}

async function chunkFile(path: string, group: Group): Promise<FileResult> {
  const content: string[] = [];
  let size = 0;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return { content, size, error: (e as Error).message };
  }
  try {
    let start = 0;
    let end = 0;
    let eof = false;
    for (;;) {
      if (!eof && end - start < MAX_CHUNK) {
        // Slide the unconsumed tail to the front so the buffer always holds one whole chunk.
        readBuffer.copy(readBuffer, 0, start, end);
        end -= start;
        start = 0;
        const n = readSync(fd, readBuffer, end, READ_BUFFER - end, null);
        if (n === 0) eof = true;
        end += n;
        size += n;
        continue;
      }
      if (start === end) break;
      const len = nextCut(gear, readBuffer, start, end, eof);
      content.push(group.add(readBuffer.subarray(start, start + len)));
      start += len;
      if (group.bytes >= GROUP_BYTES) await group.flush();
    }
    return { content, size };
  } catch (e) {
    return { content: [], size, error: (e as Error).message };
  } finally {
    closeSync(fd);
  }
}
