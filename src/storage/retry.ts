import { setTimeout as sleep } from 'node:timers/promises';
import { DriveseedError, isDriveseedError } from '../errors.js';
import type { BlobData, BlobInfo, BlobStore, ByteRange } from './blob-store.js';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Retries transient failures with exponential backoff and full jitter. NOT_FOUND and usage
 * errors are answers, not failures, and pass straight through. Safe because every operation
 * of a BlobStore is idempotent (puts of content-addressed files write the same bytes).
 */
export class RetryStore implements BlobStore {
  readonly location: string;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly inner: BlobStore,
    options: RetryOptions = {},
  ) {
    this.location = inner.location;
    this.attempts = options.attempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
  }

  private async retry<T>(op: string, name: string, fn: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (isDriveseedError(e, 'NOT_FOUND') || isDriveseedError(e, 'USAGE')) throw e;
        last = e;
        if (attempt + 1 < this.attempts) {
          await sleep(Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt));
        }
      }
    }
    throw new DriveseedError('STORAGE', `${op} ${name} at ${this.location} failed ${this.attempts} times: ${(last as Error).message}`, {
      cause: last,
    });
  }

  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.retry('get', name, () => this.inner.get(name, range));
  }

  put(name: string, data: BlobData): Promise<void> {
    return this.retry('put', name, () => this.inner.put(name, data));
  }

  stat(name: string): Promise<BlobInfo> {
    return this.retry('stat', name, () => this.inner.stat(name));
  }

  exists(name: string): Promise<boolean> {
    return this.retry('exists', name, () => this.inner.exists(name));
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    // A listing is retried whole: restarting an iterator halfway would repeat names.
    const all = await this.retry('list', prefix, async () => {
      const out: BlobInfo[] = [];
      for await (const info of this.inner.list(prefix)) out.push(info);
      return out;
    });
    yield* all;
  }

  delete(name: string): Promise<void> {
    return this.retry('delete', name, () => this.inner.delete(name));
  }
}
