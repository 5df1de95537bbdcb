import { createDecipheriv, createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { cipherInto, NONCE_LENGTH, SEAL_OVERHEAD, TAG_LENGTH } from '../repo/crypto.js';
import { contentCheck, contentMatchesId } from '../repo/ids.js';
import { BLOCK_SIZE, blockAad, CONTENT_MISMATCH, DRIVE_OPEN_FLAGS, type BlockCheck } from './envelope-format.js';
import { cachedReader, openReadBack, type ReadBack } from './read-back.js';

/*
 * The data centre's read of one file from a drive, in a worker thread: every block is
 * decrypted with the drive's key and checked against the manifest's check value, then the whole
 * file against its name when it is named by its hash. The plaintext goes back by transfer,
 * not by copy; a damaged file comes back as a problem naming the block.
 */

export interface OpenRequest {
  /** The payload file, or the drive image that holds it from `offset` on. */
  path: string;
  offset: number;
  /** Bytes there are to read from `offset`: fewer than the manifest says when the drive was cut short. */
  available: number;
  check: BlockCheck;
  driveId: string;
  storedAs: string;
  key: Uint8Array;
  length: number;
  blocks: string[];
  /** The hash the file's name promises, if it has one (repo/ids.ts, contentMatchesId). */
  expectedId?: string;
  /**
   * diskprep's read-back (drive-verify.ts): the same checks, read past the page cache where
   * the file system allows it (read-back.ts), and nothing sent back but the outcome.
   */
  readBack?: boolean;
}

export type OpenReply =
  | { data: ArrayBuffer }
  /** A read-back's outcome: `fromDevice` is false where the file system refused O_DIRECT. */
  | { verified: true; fromDevice: boolean }
  | { problem: { block?: number; reason: string } };

const sealed = Buffer.allocUnsafe(BLOCK_SIZE + SEAL_OVERHEAD);
/** A read-back keeps no plaintext: each block is decrypted here, checked, and dropped. */
let scratch: Buffer | undefined;

function openFile(request: OpenRequest): OpenReply {
  const key = Buffer.from(request.key);
  let reader: ReadBack;
  try {
    reader = request.readBack ? openReadBack(request.path, DRIVE_OPEN_FLAGS) : cachedReader(openSync(request.path, DRIVE_OPEN_FLAGS));
  } catch {
    return { problem: { reason: `missing from the drive (${request.storedAs})` } };
  }
  try {
    if (!fstatSync(reader.fd).isFile()) return { problem: { reason: `not a regular file on the drive (${request.storedAs})` } };
    const buffer = request.readBack ? undefined : new ArrayBuffer(request.length);
    const out = buffer ? Buffer.from(buffer) : (scratch ??= Buffer.allocUnsafe(BLOCK_SIZE));
    // The import holds the file whole and hashes it once; a read-back hashes block by block.
    const content = request.expectedId && !buffer ? contentCheck() : undefined;
    const end = request.offset + request.available;
    let position = request.offset;
    for (let i = 0; i < request.blocks.length; i++) {
      const plainLength = Math.min(BLOCK_SIZE, request.length - i * BLOCK_SIZE);
      const want = plainLength + SEAL_OVERHEAD;
      const got = reader.read(sealed, Math.min(want, Math.max(0, end - position)), position);
      position += want;
      if (got < want) return { problem: { block: i, reason: 'truncated: the block is shorter than the manifest says' } };
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_LENGTH));
      decipher.setAAD(blockAad(request.driveId, request.storedAs, i));
      decipher.setAuthTag(sealed.subarray(want - TAG_LENGTH, want));
      // Decrypted straight into the file's buffer; a block that fails its tag is never returned.
      const block = buffer ? out.subarray(i * BLOCK_SIZE, i * BLOCK_SIZE + plainLength) : out.subarray(0, plainLength);
      try {
        cipherInto(decipher, sealed.subarray(NONCE_LENGTH, want - TAG_LENGTH), block, 0);
        decipher.final();
      } catch {
        return { problem: { block: i, reason: "block does not decrypt (damaged, or not this drive's key)" } };
      }
      if (checkValue(request.check, block, sealed.subarray(want - TAG_LENGTH, want)) !== request.blocks[i]) {
        return { problem: { block: i, reason: 'block differs from the one the manifest lists' } };
      }
      content?.update(block);
    }
    if (request.expectedId && !(content ? content.matches(request.expectedId) : contentMatchesId(out, request.expectedId))) {
      return { problem: { reason: CONTENT_MISMATCH } };
    }
    return buffer ? { data: buffer } : { verified: true, fromDevice: reader.fromDevice };
  } finally {
    closeSync(reader.fd);
  }
}

function checkValue(check: BlockCheck, plain: Buffer, tag: Buffer): string {
  return check === 'tag' ? tag.toString('hex') : createHash('sha256').update(plain).digest('hex');
}

parentPort!.on('message', (request: OpenRequest) => {
  const reply = openFile(request);
  parentPort!.postMessage(reply, 'data' in reply ? [reply.data] : []);
});
