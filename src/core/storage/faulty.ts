import { setTimeout as sleep } from 'node:timers/promises';
import { DriveseedError } from '../errors.js';
import type { BlobData, BlobInfo, ByteRange } from './blob-store.js';
import { OpaqueForwardingStore } from './forwarding.js';

export type StoreOp = 'get' | 'put' | 'stat' | 'exists' | 'list' | 'delete';

/**
 * For tests only: a store that fails or slows down on command, so higher layers can be tested
 * against the faults real storage shows (throttling, timeouts). It withholds every capability:
 * a test that puts it in front of a store means every byte to pass where it can fail and be
 * seen, and a signed URL, a stream or a local path would move bytes around it.
 */
export class FaultyStore extends OpaqueForwardingStore {
  private failures = new Map<StoreOp, number>();
  private failWhen?: (op: StoreOp, name: string) => boolean;
  latencyMs = 0;
  readonly calls: { op: StoreOp; name: string }[] = [];

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

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    await this.before('get', name);
    return this.inner.get(name, range);
  }

  override async put(name: string, data: BlobData): Promise<void> {
    await this.before('put', name);
    await this.inner.put(name, data);
  }

  override async stat(name: string): Promise<BlobInfo> {
    await this.before('stat', name);
    return this.inner.stat(name);
  }

  override async exists(name: string): Promise<boolean> {
    await this.before('exists', name);
    return this.inner.exists(name);
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    await this.before('list', prefix);
    yield* this.inner.list(prefix);
  }

  override async delete(name: string): Promise<void> {
    await this.before('delete', name);
    await this.inner.delete(name);
  }
}
