import { setTimeout as sleep } from 'node:timers/promises';
import { DriveseedError } from '../errors.js';
import type { BlobData, BlobInfo, BlobStore, ByteRange } from './blob-store.js';

export type StoreOp = 'get' | 'put' | 'stat' | 'exists' | 'list' | 'delete';

/**
 * For tests only: a store that fails, slows down or corrupts on command, so higher layers can
 * be tested against the faults real storage shows (throttling, timeouts, bit rot).
 */
export class FaultyStore implements BlobStore {
  readonly location: string;
  private failures = new Map<StoreOp, number>();
  private failWhen?: (op: StoreOp, name: string) => boolean;
  latencyMs = 0;
  /** Flip one byte of what get returns for names matching this. */
  corruptGets?: (name: string) => boolean;
  readonly calls: { op: StoreOp; name: string }[] = [];

  constructor(private readonly inner: BlobStore) {
    this.location = inner.location;
  }

  failNext(op: StoreOp, times = 1): void {
    this.failures.set(op, (this.failures.get(op) ?? 0) + times);
  }

  failMatching(predicate: ((op: StoreOp, name: string) => boolean) | undefined): void {
    this.failWhen = predicate;
  }

  private async before(op: StoreOp, name: string): Promise<void> {
    this.calls.push({ op, name });
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const left = this.failures.get(op) ?? 0;
    if (left > 0 || this.failWhen?.(op, name)) {
      if (left > 0) this.failures.set(op, left - 1);
      throw new DriveseedError('STORAGE', `injected fault: ${op} ${name}`);
    }
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    await this.before('get', name);
    const data = await this.inner.get(name, range);
    if (data.length > 0 && this.corruptGets?.(name)) data[Math.floor(data.length / 2)] ^= 0x01;
    return data;
  }

  async put(name: string, data: BlobData): Promise<void> {
    await this.before('put', name);
    await this.inner.put(name, data);
  }

  async stat(name: string): Promise<BlobInfo> {
    await this.before('stat', name);
    return this.inner.stat(name);
  }

  async exists(name: string): Promise<boolean> {
    await this.before('exists', name);
    return this.inner.exists(name);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    await this.before('list', prefix);
    yield* this.inner.list(prefix);
  }

  async delete(name: string): Promise<void> {
    await this.before('delete', name);
    await this.inner.delete(name);
  }
}
