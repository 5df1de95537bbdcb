import { createCipheriv, randomFillSync } from 'node:crypto';
import { closeSync, openSync, readSync, writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { cipherInto, NONCE_LENGTH, SEAL_OVERHEAD } from '../repo/crypto.js';
import { BLOCK_SIZE, blockAad } from './envelope-format.js';

/*
 * diskprep's copy of one staged file onto a drive, in a worker thread: sealing 4 MiB blocks
 * is CPU work, and a thread per core keeps both busy without copying each block between
 * threads. The bytes are exactly those of `seal` (nonce ‖ ciphertext ‖ tag); each block's tag
 * is its check value in the manifest.
 */

export interface SealRequest {
  source: string;
  size: number;
  target: string;
  /** Where in `target` the sealed file begins (a drive image); absent: `target` is the file's own. */
  offset?: number;
  driveId: string;
  storedAs: string;
  key: Uint8Array;
}

export type SealReply = { blocks: string[] } | { error: string; code?: string };

const block = Buffer.allocUnsafe(BLOCK_SIZE);
/** One sealed block, reused: nonce ‖ ciphertext ‖ tag. */
const sealed = Buffer.allocUnsafe(BLOCK_SIZE + SEAL_OVERHEAD);

function sealFile(request: SealRequest): string[] {
  const key = Buffer.from(request.key);
  const source = openSync(request.source, 'r');
  const target = openSync(request.target, request.offset === undefined ? 'w' : 'r+');
  let position = request.offset ?? 0;
  const blocks: string[] = [];
  try {
    for (let offset = 0, i = 0; offset < request.size || (request.size === 0 && i === 0); offset += BLOCK_SIZE, i++) {
      const length = Math.min(BLOCK_SIZE, request.size - offset);
      let filled = 0;
      while (filled < length) {
        const n = readSync(source, block, filled, length - filled, offset + filled);
        if (n === 0) throw new Error(`${request.source} is shorter than ${request.size} bytes`);
        filled += n;
      }
      const plain = block.subarray(0, length);
      const nonce = randomFillSync(sealed, 0, NONCE_LENGTH).subarray(0, NONCE_LENGTH);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(blockAad(request.driveId, request.storedAs, i));
      let end = cipherInto(cipher, plain, sealed, NONCE_LENGTH);
      end += cipher.final().copy(sealed, end);
      const tag = cipher.getAuthTag();
      end += tag.copy(sealed, end);
      blocks.push(tag.toString('hex'));
      position += writeAll(target, [sealed.subarray(0, end)], position);
    }
    // No fsync here: the caller syncs on libuv's pool, so this thread seals the next file
    // while the disk catches up.
    return blocks;
  } finally {
    closeSync(source);
    closeSync(target);
  }
}

/** writev may write less than asked (a full disk, a signal): write the rest, or fail with the cause. Returns the bytes written. */
function writeAll(fd: number, parts: Buffer[], position: number): number {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const written = writevSync(fd, parts, position);
  if (written < total) writeAll(fd, [Buffer.concat(parts).subarray(written)], position + written);
  return total;
}

parentPort!.on('message', (request: SealRequest) => {
  try {
    parentPort!.postMessage({ blocks: sealFile(request) } satisfies SealReply);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message, code: (e as NodeJS.ErrnoException).code } satisfies SealReply);
  }
});
