import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { decodePayload } from '../repo/compression.js';
import { blobIdOf, open } from '../repo/crypto.js';
import { blobAad } from '../repo/pack.js';
import type { RestoreJob, RestoreReply, RestoreWorkerInit } from './restore-protocol.js';

/**
 * A restorer thread: decrypt → decompress → verify the id → write at the blob's offset into
 * an already open file. Writing here, not in main, keeps plaintext from crossing threads.
 */
const init = workerData as RestoreWorkerInit;
const encryption = Buffer.from(init.encryption);
const mac = Buffer.from(init.mac);
const port = parentPort!;

port.on('message', (job: RestoreJob) => {
  const reply: RestoreReply = { job: job.job };
  try {
    const sealed = Buffer.from(job.sealed.buffer, job.sealed.byteOffset, job.sealed.byteLength);
    const what = `data blob ${job.id}`;
    const plaintext = decodePayload(open(encryption, sealed, blobAad('data', job.id), what), what);
    if (blobIdOf(mac, plaintext) !== job.id) throw new Error(`${what}: content does not match its id`);
    let done = 0;
    while (done < plaintext.length) done += writeSync(job.fd, plaintext, done, plaintext.length - done, job.offset + done);
    reply.bytes = plaintext.length;
  } catch (e) {
    reply.error = (e as Error).message;
  }
  port.postMessage(reply);
});
