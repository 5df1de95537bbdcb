import { createHash } from 'node:crypto';
import { AnonymousCredential, BlockBlobClient, newPipeline, RestError, type BlockBlobUploadOptions, type Pipeline } from '@azure/storage-blob';
import { DriveseedError } from '../../errors.js';
import { blobDataBuffer, type BlobData, type ByteRange } from '../blob-store.js';

/**
 * One blob reached through a signed URL (a SAS that someone else issued): the client holds no
 * account credentials, and can do only what the signature allows. Errors come back as
 * DriveseedErrors whose code says what the caller should do:
 * - FORBIDDEN: the signature was refused (expired, or not valid for this request): ask again;
 * - CONFLICT: the blob exists already and a create-only URL may not replace it;
 * - NOT_FOUND: no such blob;
 * - STORAGE: anything else (network, 5xx), worth retrying.
 */

/** A handful of quick tries here; the agent's RetryStore waits out longer outages with backoff. */
let sharedPipeline: Pipeline | undefined;
function pipeline(): Pipeline {
  sharedPipeline ??= newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 } });
  return sharedPipeline;
}

/**
 * Writes the whole blob in one Put Blob request, which commits atomically (never a prefix).
 * Over plain HTTP (no TLS to protect the bytes) the request carries its MD5, which blob
 * storage checks before it accepts anything; over HTTPS the TLS record MACs do that job.
 */
export async function putWithSignedUrl(url: string, data: BlobData): Promise<void> {
  const body = blobDataBuffer(data);
  const transactionalContentMD5 = url.startsWith('http:') ? createHash('md5').update(body).digest() : undefined;
  // The SDK sends transactionalContentMD5 as Content-MD5 on Put Blob, though its upload typings omit it.
  const options: BlockBlobUploadOptions & { transactionalContentMD5?: Uint8Array } = { transactionalContentMD5, conditions: { ifNoneMatch: '*' } };
  try {
    await new BlockBlobClient(url, pipeline()).upload(body, body.length, options);
  } catch (e) {
    throw signedUrlError(e, url, true);
  }
}

export async function getWithSignedUrl(url: string, range?: ByteRange): Promise<Buffer> {
  if (range && range.length === 0) return Buffer.alloc(0);
  try {
    return await new BlockBlobClient(url, pipeline()).downloadToBuffer(range?.offset ?? 0, range?.length, { concurrency: 4, blockSize: 8 * 1024 * 1024 });
  } catch (e) {
    throw signedUrlError(e, url, false);
  }
}

/** The blob's path for messages: never the query string, which is the credential. */
export function withoutSignature(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function signedUrlError(e: unknown, url: string, creating: boolean): DriveseedError {
  const where = withoutSignature(url);
  if (!(e instanceof RestError)) return new DriveseedError('STORAGE', `${where}: ${(e as Error).message}`, { cause: e });
  const code = e.code ?? '';
  // A create-only signature may not replace a blob: Azure answers 409 to If-None-Match, or 403 for the missing write permission.
  if (creating && (e.statusCode === 409 || code === 'AuthorizationPermissionMismatch')) return new DriveseedError('CONFLICT', `${where} exists already`, { cause: e });
  if (e.statusCode === 403) return new DriveseedError('FORBIDDEN', `${where}: blob storage refused the signed URL (${code || 'HTTP 403'})`, { cause: e });
  if (e.statusCode === 404) return new DriveseedError('NOT_FOUND', `${where} not found`, { cause: e });
  return new DriveseedError('STORAGE', `${where}: ${e.statusCode ?? ''} ${code || e.message}`.trim(), { cause: e });
}
