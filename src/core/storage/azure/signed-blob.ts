import { createHash } from 'node:crypto';
import { AnonymousCredential, BlockBlobClient, newPipeline, RestError, type BlockBlobUploadOptions, type Pipeline } from '@azure/storage-blob';
import { DriveseedError } from '../../errors.js';
import { pacedReadable, uploadPacing } from '../../util/transfer-pacing.js';
import { blobDataBuffer, type BlobData, type ByteRange } from '../blob-store.js';

/*
 * One blob reached through a signed URL (a SAS that someone else issued): the client holds
 * no account credentials, and can do only what the signature allows. Errors come back as
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
 * Whether a request must carry its body's MD5 for blob storage to check: only when the bytes
 * cross a network unprotected. Over HTTPS the TLS record MACs catch any change on the way; on
 * loopback (Azurite next to the agent) there is no wire. MD5 costs a core about 25 ms a pack.
 */
export function needsContentMd5(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'http:') return false;
  return !(hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname));
}

/**
 * Writes the whole blob in one Put Blob request, which commits atomically (never a prefix),
 * with If-None-Match: * so that even a URL allowed to overwrite never replaces a blob.
 */
export async function putWithSignedUrl(url: string, data: BlobData, check: { contentMd5?: boolean } = {}): Promise<void> {
  const body = blobDataBuffer(data);
  const transactionalContentMD5 = (check.contentMd5 ?? needsContentMd5(url)) ? createHash('md5').update(body).digest() : undefined;
  // The SDK sends transactionalContentMD5 as Content-MD5 on Put Blob, though its upload typings omit it.
  const options: BlockBlobUploadOptions & { transactionalContentMD5?: Uint8Array } = { transactionalContentMD5, conditions: { ifNoneMatch: '*' } };
  try {
    // Under a bandwidth limit the SDK reads the body as the limit lets it go; a retry asks for the stream again.
    const upload = uploadPacing();
    await new BlockBlobClient(url, pipeline()).upload(upload ? () => pacedReadable([body], upload) : body, body.length, options);
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
  if (creating && (e.statusCode === 409 || code === 'AuthorizationPermissionMismatch'))
    return new DriveseedError('CONFLICT', `${where} exists already`, { cause: e });
  if (e.statusCode === 403) return new DriveseedError('FORBIDDEN', `${where}: blob storage refused the signed URL (${code || 'HTTP 403'})`, { cause: e });
  if (e.statusCode === 404) return new DriveseedError('NOT_FOUND', `${where} not found`, { cause: e });
  return new DriveseedError('STORAGE', `${where}: ${e.statusCode ?? ''} ${code || e.message}`.trim(), { cause: e });
}
