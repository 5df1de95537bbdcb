import { BlobSASPermissions, BlobServiceClient, RestError, SASProtocol, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { DriveseedError } from '../../errors.js';
import { Readable } from 'node:stream';
import {
  assertValidBlobName,
  assertValidBlobPrefix,
  blobDataBuffer,
  type BlobAccess,
  type BlobData,
  type BlobInfo,
  type BlobReader,
  type BlobStore,
  type ByteRange,
  type ReadStreaming,
  type SignedBlobUrls,
  type StreamingReads,
  type StreamingWrites,
  type UrlSigning,
  type WriteStreaming,
} from '../blob-store.js';

/** SAS permissions for each kind of access: `create` writes a new blob only (no overwrite, no delete). */
const SAS_PERMISSIONS: Record<BlobAccess, string> = { read: 'r', create: 'c' };

/** Packs above this go up as parallel blocks; below it, one Put Blob request. */
const BLOCK_SIZE = 8 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;
/**
 * A streamed write holds at most this many blocks of this size (the SDK's uploadStream fills
 * one buffer per block in flight): 8 MiB a file, however large. Each block is staged (Put
 * Block); the list is committed only once the source has ended well, so a source that fails
 * (a hash check that refuses it at the end) leaves no blob, only uncommitted blocks that
 * blob storage drops by itself.
 */
const STREAM_BLOCK_SIZE = 4 * 1024 * 1024;
const STREAM_CONCURRENCY = 2;

/**
 * A BlobStore in one Azure Blob Storage container (block blobs), through the official SDK.
 * Put Blob and Put Block List commit atomically, which gives the interface's atomic put;
 * the SDK's own retry policy handles throttling and transient errors.
 */
export class AzureStore implements BlobStore, UrlSigning, ReadStreaming, WriteStreaming {
  readonly location: string;
  private ready?: Promise<void>;

  constructor(private readonly container: ContainerClient) {
    this.location = `azure://${container.containerName}`;
  }

  static fromConnectionString(connectionString: string, containerName: string): AzureStore {
    const service = BlobServiceClient.fromConnectionString(connectionString, {
      retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
    });
    return new AzureStore(service.getContainerClient(containerName));
  }

  /** Containers are created on first write, so opening a store never needs write rights. */
  private ensureContainer(): Promise<void> {
    this.ready ??= this.container.createIfNotExists().then(
      () => undefined,
      (e) => {
        this.ready = undefined;
        throw mapError(e, this.container.containerName, this.location);
      },
    );
    return this.ready;
  }

  /**
   * Signs per-blob URLs (service SAS) when the store holds the account key; a store opened
   * with a SAS of its own cannot sign, and its clients go through the service instead.
   */
  urlSigner(): SignedBlobUrls | undefined {
    if (!(this.container.credential instanceof StorageSharedKeyCredential)) return undefined;
    return { signedUrl: (name, access, expiresOn) => this.signedUrl(name, access, expiresOn) };
  }

  /**
   * A service SAS for exactly this blob (sr=b): the signature covers the account, container
   * and blob name, so the URL reaches no other blob. No start time, so a client whose clock
   * runs a little ahead is not refused; HTTPS only unless the endpoint itself is plain HTTP
   * (Azurite on loopback).
   */
  private async signedUrl(name: string, access: BlobAccess, expiresOn: Date): Promise<string> {
    assertValidBlobName(name);
    if (access === 'create') await this.ensureContainer();
    const https = this.container.url.startsWith('https:');
    return this.container.getBlobClient(name).generateSasUrl({
      permissions: BlobSASPermissions.parse(SAS_PERMISSIONS[access]),
      expiresOn,
      protocol: https ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
    });
  }

  readStreams(): StreamingReads {
    return { openRead: (name, range) => this.openRead(name, range) };
  }

  /** One Get Blob request, its body passed on as it arrives; the SDK resumes a body cut off mid-way. */
  private async openRead(name: string, range?: ByteRange): Promise<BlobReader> {
    assertValidBlobName(name);
    if (range && range.length === 0) return { length: 0, stream: Readable.from([]) };
    try {
      const response = await this.container.getBlobClient(name).download(range?.offset ?? 0, range?.length, { maxRetryRequests: 3 });
      const stream = response.readableStreamBody as Readable;
      const length = response.contentLength ?? 0;
      // Blob storage answers a range that runs past the end with what there is: refuse it, as get does.
      if (range && length !== range.length) {
        stream.destroy();
        throw new DriveseedError('BAD_RANGE', `${name}: range ${range.offset}+${range.length} is past the end of the blob`);
      }
      return { length, stream };
    } catch (e) {
      throw mapError(e, name, this.location);
    }
  }

  writeStreams(): StreamingWrites {
    return { putStream: (name, source) => this.putStream(name, source) };
  }

  private async putStream(name: string, source: Readable): Promise<void> {
    assertValidBlobName(name);
    await this.ensureContainer();
    try {
      await this.container.getBlockBlobClient(name).uploadStream(source, STREAM_BLOCK_SIZE, STREAM_CONCURRENCY);
    } catch (e) {
      source.destroy();
      throw mapError(e, name, this.location);
    }
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    assertValidBlobName(name);
    try {
      const blob = this.container.getBlobClient(name);
      if (range && range.length === 0) return Buffer.alloc(0);
      // downloadToBuffer fills a range that runs past the end with zeros, silently: a range is one
      // Get Blob, whose length says whether the blob had it all.
      if (range) return await collect(await this.openRead(name, range), name, this.location);
      return await blob.downloadToBuffer(0, undefined, { concurrency: UPLOAD_CONCURRENCY, blockSize: BLOCK_SIZE });
    } catch (e) {
      throw mapError(e, name, this.location);
    }
  }

  async put(name: string, data: BlobData): Promise<void> {
    assertValidBlobName(name);
    await this.ensureContainer();
    try {
      await this.container.getBlockBlobClient(name).uploadData(blobDataBuffer(data), {
        blockSize: BLOCK_SIZE,
        maxSingleShotSize: BLOCK_SIZE,
        concurrency: UPLOAD_CONCURRENCY,
      });
    } catch (e) {
      throw mapError(e, name, this.location);
    }
  }

  async stat(name: string): Promise<BlobInfo> {
    assertValidBlobName(name);
    try {
      const props = await this.container.getBlobClient(name).getProperties();
      return { name, size: props.contentLength ?? 0 };
    } catch (e) {
      throw mapError(e, name, this.location);
    }
  }

  async exists(name: string): Promise<boolean> {
    assertValidBlobName(name);
    try {
      return await this.container.getBlobClient(name).exists();
    } catch (e) {
      throw mapError(e, name, this.location);
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    // Azure matches prefixes as strings, so `../` escapes nothing here; refused as every store refuses it.
    assertValidBlobPrefix(prefix);
    try {
      for await (const blob of this.container.listBlobsFlat({ prefix })) {
        yield { name: blob.name, size: blob.properties.contentLength ?? 0 };
      }
    } catch (e) {
      // A container that does not exist yet holds nothing.
      if (e instanceof RestError && e.statusCode === 404) return;
      throw mapError(e, prefix, this.location);
    }
  }

  async delete(name: string): Promise<void> {
    assertValidBlobName(name);
    try {
      await this.container.getBlobClient(name).deleteIfExists();
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return;
      throw mapError(e, name, this.location);
    }
  }
}

async function collect(reader: BlobReader, name: string, location: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of reader.stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== reader.length) throw new DriveseedError('STORAGE', `${location}: ${name}: got ${bytes.length} of ${reader.length} bytes`);
  return bytes;
}

function mapError(e: unknown, name: string, location: string): Error {
  if (e instanceof DriveseedError) return e;
  if (e instanceof RestError) {
    if (e.statusCode === 404) return new DriveseedError('NOT_FOUND', `${name} not found in ${location}`, { cause: e });
    if (e.statusCode === 416) return new DriveseedError('BAD_RANGE', `${name}: the range is past the end of the blob`, { cause: e });
    if (e.statusCode === 403)
      return new DriveseedError('STORAGE', `${location}: access denied for ${name}`, { hint: 'check AZURE_STORAGE_CONNECTION_STRING', cause: e });
    return new DriveseedError('STORAGE', `${location}: ${name}: ${e.statusCode ?? ''} ${e.code ?? e.message}`.trim(), { cause: e });
  }
  return new DriveseedError('STORAGE', `${location}: ${name}: ${(e as Error).message}`, { cause: e });
}
