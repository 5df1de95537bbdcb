import { MAX_GRANTS_PER_REQUEST } from '../../api/contract.js';
import type { ServerParams } from '../../api/schemas.js';
import type { BlobAccess } from '../../core/storage/blob-store.js';
import type { ServiceClient } from '../../api/service-client.js';

interface CachedGrant {
  url: string;
  /** On this agent's clock. */
  usableUntil: number;
}

interface Batch {
  names: string[];
  answer: Promise<Map<string, string> | undefined>;
  send: () => void;
}

/** Grants kept at most; a restore of a large repository reads many packs. */
const MAX_CACHED = 10_000;

/**
 * The service's signed URLs for this server's packs, asked for as they are needed and kept
 * until shortly before they expire (a read grant serves every ranged read of its pack).
 * Requests made in the same turn of the event loop go as one call. Once the service says
 * its storage cannot sign (a local directory), every answer is "no": go through the service.
 */
export class PackGrants {
  private direct?: boolean;
  private readonly cache = new Map<string, CachedGrant>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  private readonly batches = new Map<BlobAccess, Batch>();

  constructor(
    private readonly client: ServiceClient,
    private readonly server: ServerParams,
  ) {}

  /** A usable signed URL for the pack, or undefined when packs go through the service. */
  url(name: string, access: BlobAccess): Promise<string | undefined> {
    if (this.direct === false) return Promise.resolve(undefined);
    const key = `${access} ${name}`;
    const cached = this.cache.get(key);
    if (cached && cached.usableUntil > Date.now()) return Promise.resolve(cached.url);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(access, name).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** Drops a grant blob storage refused (expired, say), so the next url() asks again. */
  forget(name: string, access: BlobAccess): void {
    this.cache.delete(`${access} ${name}`);
  }

  private async ask(access: BlobAccess, name: string): Promise<string | undefined> {
    let batch = this.batches.get(access);
    if (!batch || batch.names.length >= MAX_GRANTS_PER_REQUEST) {
      batch = this.newBatch(access);
      this.batches.set(access, batch);
      setImmediate(batch.send);
    }
    batch.names.push(name);
    return (await batch.answer)?.get(name);
  }

  private newBatch(access: BlobAccess): Batch {
    let send!: () => void;
    const names: string[] = [];
    const answer = new Promise<Map<string, string> | undefined>((resolve, reject) => {
      send = () => {
        if (this.batches.get(access) === batch) this.batches.delete(access);
        this.request(access, names).then(resolve, reject);
      };
    });
    // Callers await it one by one; a failed request must not also be an unhandled rejection.
    answer.catch(() => undefined);
    const batch: Batch = { names, answer, send };
    return batch;
  }

  private async request(access: BlobAccess, names: string[]): Promise<Map<string, string> | undefined> {
    const asked = Date.now();
    const answer = await this.client.request('grantBlobAccess', { params: this.server, body: { access, names } });
    this.direct = answer.direct;
    if (!answer.direct) return undefined;
    // Counted from when we asked, on our clock; renewed with a quarter of the lifetime (at most a minute) to spare.
    const lifetimeMs = (answer.expiresIn ?? 0) * 1000;
    const usableUntil = asked + lifetimeMs - Math.min(60_000, lifetimeMs / 4);
    if (this.cache.size + answer.grants.length > MAX_CACHED) this.dropExpired();
    const urls = new Map<string, string>();
    for (const grant of answer.grants) {
      urls.set(grant.name, grant.url);
      this.cache.set(`${access} ${grant.name}`, { url: grant.url, usableUntil });
    }
    return urls;
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [key, grant] of this.cache) if (grant.usableUntil <= now) this.cache.delete(key);
    if (this.cache.size > MAX_CACHED / 2) this.cache.clear();
  }
}
