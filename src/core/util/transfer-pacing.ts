import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable, type Writable } from 'node:stream';
import type { TokenBucket } from './token-bucket.js';

/*
 * Metering bytes as they go onto the wire, not before a request: a bandwidth limit that takes
 * a whole 16 MiB pack's tokens and then hands the pack to the HTTP client sends it at full
 * speed (kopia's throttler meters the request body as it is read, for the same reason).
 *
 * The limit is set by a store wrapper (ThrottleStore), and the bytes are written by the
 * transport several wrappers below it (the vault's HTTP client, Azure's SDK for direct
 * uploads), which know nothing of one another: the bucket travels with the call in an
 * AsyncLocalStorage, and each transport asks for it where it writes or reads a body. Whatever
 * a transport does not meter (a local directory), the wrapper meters after the call, so no
 * byte escapes the limit.
 */

export interface PacedTransfer {
  bucket: TokenBucket;
  /** Bytes the transport metered in this call. */
  bytes: number;
}

const uploads = new AsyncLocalStorage<PacedTransfer>();
const downloads = new AsyncLocalStorage<PacedTransfer>();

/** Runs `fn` with uploads in it metered by `bucket`; returns its value and how many bytes the transports metered. */
export async function withUploadPacing<T>(bucket: TokenBucket, fn: () => Promise<T>): Promise<{ value: T; paced: number }> {
  const transfer: PacedTransfer = { bucket, bytes: 0 };
  const value = await uploads.run(transfer, fn);
  return { value, paced: transfer.bytes };
}

export async function withDownloadPacing<T>(bucket: TokenBucket, fn: () => Promise<T>): Promise<{ value: T; paced: number }> {
  const transfer: PacedTransfer = { bucket, bytes: 0 };
  const value = await downloads.run(transfer, fn);
  return { value, paced: transfer.bytes };
}

export function uploadPacing(): PacedTransfer | undefined {
  return uploads.getStore();
}

export function downloadPacing(): PacedTransfer | undefined {
  return downloads.getStore();
}

/** The parts cut into pieces of about one burst each. */
function* pieces(parts: readonly Uint8Array[], size: () => number): Generator<Uint8Array> {
  for (const part of parts) {
    for (let at = 0; at < part.length;) {
      const n = Math.min(part.length - at, size());
      yield part.subarray(at, at + n);
      at += n;
    }
  }
}

/** Writes `parts` to `out` as the bucket lets them go, waiting for the stream to drain as well; ends nothing. */
export async function writePaced(out: Writable, parts: readonly Uint8Array[], transfer: PacedTransfer): Promise<void> {
  for (const piece of pieces(parts, () => transfer.bucket.pieceSize())) {
    await transfer.bucket.take(piece.length);
    transfer.bytes += piece.length;
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
}

/** A stream of `parts` that goes as the bucket lets it: a body for clients that read one (Azure's SDK). */
export function pacedReadable(parts: readonly Uint8Array[], transfer: PacedTransfer): Readable {
  const source = pieces(parts, () => transfer.bucket.pieceSize());
  return new Readable({
    read() {
      const next = source.next();
      if (next.done) return void this.push(null);
      transfer.bucket.take(next.value.length).then(
        () => {
          transfer.bytes += next.value.length;
          this.push(next.value);
        },
        (e: Error) => this.destroy(e),
      );
    },
  });
}

/** Holds a response back as the bucket says: paused while it waits, so TCP slows the sender down. */
export function meterResponse(response: Readable, transfer: PacedTransfer): void {
  response.on('data', (chunk: Buffer) => {
    response.pause();
    transfer.bucket.take(chunk.length).then(
      () => {
        transfer.bytes += chunk.length;
        response.resume();
      },
      (e: Error) => response.destroy(e),
    );
  });
}
