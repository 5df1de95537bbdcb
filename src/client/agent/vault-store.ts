import { DriveseedError } from '../../core/errors.js';
import { assertValidBlobName, existsByStat, type BlobData, type BlobInfo, type BlobStore, type ByteRange } from '../../core/storage/blob-store.js';
import type { ServiceClient } from '../../api/service-client.js';
import type { ServerParams } from '../../api/schemas.js';

/**
 * The agent's view of its repository in the vault: a BlobStore over the service's blob API.
 * The service stores what it is given and checks content hashes; it never sees a key.
 */
export class VaultStore implements BlobStore {
  readonly location: string;
  private readonly server: ServerParams;

  constructor(
    private readonly client: ServiceClient,
    subscriptionId: string,
    vault: string,
    serverId: string,
  ) {
    this.server = { subscriptionId, vaultName: vault, serverId };
    this.location = `${client.serviceUrl} vault ${vault}`;
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    assertValidBlobName(name);
    if (range && range.length === 0) return Buffer.alloc(0);
    const headers: Record<string, string> = range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};
    const response = await this.client.transfer('getBlob', { params: { ...this.server, '*': name }, headers });
    if (response.status === 404) throw new DriveseedError('NOT_FOUND', `${name} not found in ${this.location}`);
    return response.body;
  }

  async put(name: string, data: BlobData): Promise<void> {
    assertValidBlobName(name);
    await this.client.transfer('putBlob', { params: { ...this.server, '*': name }, body: data });
  }

  async stat(name: string): Promise<BlobInfo> {
    assertValidBlobName(name);
    const response = await this.client.transfer('headBlob', { params: { ...this.server, '*': name } });
    if (response.status === 404) throw new DriveseedError('NOT_FOUND', `${name} not found in ${this.location}`);
    return { name, size: Number(response.headers['x-blob-size']) };
  }

  exists(name: string): Promise<boolean> {
    return existsByStat(this, name);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const listing = await this.client.request('listBlobs', { params: this.server, query: { prefix } });
    yield* listing.blobs;
  }

  async delete(name: string): Promise<void> {
    assertValidBlobName(name);
    await this.client.transfer('deleteBlob', { params: { ...this.server, '*': name } });
  }
}
