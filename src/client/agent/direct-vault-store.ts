import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import { contentMatchesId } from '../../core/repo/ids.js';
import { idFromName } from '../../core/repo/layout.js';
import { PACK_NAME_PATTERN } from '../../api/contract.js';
import { blobDataLength, type BlobAccess, type BlobData, type BlobStore, type ByteRange } from '../../core/storage/blob-store.js';
import { ForwardingStore } from '../../core/storage/forwarding.js';
import type { PackGrants } from './pack-grants.js';
import type { Traffic } from '../../api/service-client.js';

const PACK_NAME = new RegExp(PACK_NAME_PATTERN);

/**
 * The transfer code pulls in the Azure SDK (0.15 s of loading): loaded once the service has
 * signed a URL, never for a vault on a local directory, whose answer is always "no URL".
 */
type SignedBlob = typeof import('../../core/storage/azure/signed-blob.js');
let signedBlob: Promise<SignedBlob> | undefined;
const loadSignedBlob = () => (signedBlob ??= import('../../core/storage/azure/signed-blob.js'));

/**
 * The vault repository with its packs moved straight between the agent and the vault's blob
 * storage, on URLs the service signs for one pack at a time; the service stays out of the
 * data path but keeps the say over who writes what. Everything else — config, keys,
 * indexes, snapshots, locks, listings, deletes — goes through the service's blob API as
 * before, so the files a recovery point is made of are still checked there on arrival.
 * When the service's storage cannot sign (a local directory), packs go through it too.
 * A capability of the store through the service is passed on as it is: it reaches the same
 * files, through the service, whose client counts that traffic itself.
 */
export class DirectVaultStore extends ForwardingStore {
  constructor(
    private readonly viaService: BlobStore,
    private readonly grants: PackGrants,
    private readonly traffic: Traffic,
  ) {
    super(viaService);
  }

  override async put(name: string, data: BlobData): Promise<void> {
    if (!PACK_NAME.test(name)) return this.viaService.put(name, data);
    try {
      const sent = await this.direct(name, 'create', async (url) => (await loadSignedBlob()).putWithSignedUrl(url, data));
      if (!sent) return this.viaService.put(name, data);
      this.traffic.sent += blobDataLength(data);
    } catch (e) {
      if (!isDriveseedError(e, 'CONFLICT')) throw e;
      await this.keepOrReplace(name, data);
    }
  }

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    if (!PACK_NAME.test(name)) return this.viaService.get(name, range);
    const read = await this.direct(name, 'read', async (url) => (await loadSignedBlob()).getWithSignedUrl(url, range));
    if (!read) return this.viaService.get(name, range);
    this.traffic.received += read.value.length;
    return read.value;
  }

  /**
   * Runs one transfer on a signed URL; undefined when there is none (go through the service).
   * A refused signature (expired while the agent waited, say) is asked for again once; refused
   * twice, it is not a passing fault, and fails clearly instead of being retried for minutes.
   */
  private async direct<T>(name: string, access: BlobAccess, transfer: (url: string) => Promise<T>): Promise<{ value: T } | undefined> {
    for (let attempt = 1; ; attempt++) {
      const url = await this.grants.url(name, access);
      if (!url) return undefined;
      try {
        return { value: await transfer(url) };
      } catch (e) {
        if (!isDriveseedError(e, 'FORBIDDEN')) throw e;
        this.grants.forget(name, access);
        if (attempt >= 2) {
          throw new DriveseedError('FORBIDDEN', `${e.message}, twice, with a fresh grant from the service`, {
            hint: "check the service's clock and its storage account key",
            cause: e,
          });
        }
      }
    }
  }

  /**
   * A create-only URL found the pack there already: most often this agent's own earlier try,
   * whose answer was lost. A pack's name is the hash of its bytes, so what is there is
   * read back and checked; anything else is replaced through the service, which checks it.
   */
  private async keepOrReplace(name: string, data: BlobData): Promise<void> {
    const stored = await this.get(name);
    if (contentMatchesId(stored, idFromName(name))) return;
    await this.viaService.put(name, data);
  }
}
