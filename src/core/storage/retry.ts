import { setTimeout as sleep } from 'node:timers/promises';
import { DriveseedError, isDriveseedError } from '../errors.js';
import type { BlobData, BlobInfo, BlobStore, ByteRange, SignedBlobUrls, StreamingReads } from './blob-store.js';
import { ForwardingStore } from './forwarding.js';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Give up once this long has passed since the first try, whatever the attempt count. */
  maxElapsedMs?: number;
}

/**
 * Retries transient failures with exponential backoff, half of each delay random. NOT_FOUND,
 * bad ranges and usage errors are answers, not failures, and pass straight through. Safe because every
 * operation of a BlobStore is idempotent (puts of content-addressed files write the same bytes).
 * Capabilities pass on, retried where they can fail on the way: signing (Azure may create the
 * container first) and opening a stream; a stream cut off mid-way is its reader's to handle,
 * since bytes already passed on cannot be taken back. Local paths need no network to retry.
 */
export class RetryStore extends ForwardingStore {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxElapsedMs: number;

  constructor(inner: BlobStore, options: RetryOptions = {}) {
    super(inner);
    this.attempts = options.attempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.maxElapsedMs = options.maxElapsedMs ?? Infinity;
  }

  private async retry<T>(op: string, name: string, fn: () => Promise<T>): Promise<T> {
    let last: unknown;
    const started = Date.now();
    let attempt = 0;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (isFinal(e)) throw e;
        last = e;
      }
      attempt++;
      // Half the delay is fixed, half random: a restarting server gets a guaranteed pause, and many clients spread out.
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
      if (attempt >= this.attempts || Date.now() - started + delay > this.maxElapsedMs) break;
      await sleep(delay / 2 + (Math.random() * delay) / 2);
    }
    throw new DriveseedError(
      'STORAGE',
      `${op} ${name} at ${this.location} failed ${attempt} times in ${Math.round((Date.now() - started) / 1000)} s: ${(last as Error).message}`,
      // The last failure's hint (what to check when a service cannot be reached) is the user's next step.
      { cause: last, hint: isDriveseedError(last) ? last.hint : undefined },
    );
  }

  override get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.retry('get', name, () => this.inner.get(name, range));
  }

  override put(name: string, data: BlobData): Promise<void> {
    return this.retry('put', name, () => this.inner.put(name, data));
  }

  override stat(name: string): Promise<BlobInfo> {
    return this.retry('stat', name, () => this.inner.stat(name));
  }

  override exists(name: string): Promise<boolean> {
    return this.retry('exists', name, () => this.inner.exists(name));
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    // A listing is retried whole: restarting an iterator halfway would repeat names.
    const all = await this.retry('list', prefix, async () => {
      const out: BlobInfo[] = [];
      for await (const info of this.inner.list(prefix)) out.push(info);
      return out;
    });
    yield* all;
  }

  override delete(name: string): Promise<void> {
    return this.retry('delete', name, () => this.inner.delete(name));
  }

  override urlSigner(): SignedBlobUrls | undefined {
    const inner = super.urlSigner();
    if (!inner) return undefined;
    return { signedUrl: (name, access, expiresOn) => this.retry('sign', name, () => inner.signedUrl(name, access, expiresOn)) };
  }

  override readStreams(): StreamingReads | undefined {
    const inner = super.readStreams();
    if (!inner) return undefined;
    return { openRead: (name, range) => this.retry('open', name, () => inner.openRead(name, range)) };
  }
}

/** Answers another try cannot change: a missing file, bad usage, refused credentials, a peer whose certificate is not trusted. */
function isFinal(e: unknown): boolean {
  return (['NOT_FOUND', 'USAGE', 'BAD_RANGE', 'UNAUTHORIZED', 'FORBIDDEN', 'UNTRUSTED'] as const).some((code) => isDriveseedError(e, code));
}
