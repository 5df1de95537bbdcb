/** Bounds how much work is in flight: the walk must not queue a million files at once. */
export class Semaphore {
  /**
   * Waiters in arrival order. A read index instead of Array.shift, which copies the array:
   * with tens of thousands of files waiting, shift made release the walk's hottest function.
   */
  private waiting: (() => void)[] = [];
  private head = 0;
  private releaseListeners: (() => void)[] = [];

  constructor(private available: number) {}

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** How many are waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Resolves once at most `limit` wait for a slot: lets a producer pause until the queue has moved. */
  async queueAtMost(limit: number): Promise<void> {
    while (this.queued > limit) await new Promise<void>((resolve) => this.releaseListeners.push(resolve));
  }

  release(): void {
    const listeners = this.releaseListeners;
    this.releaseListeners = [];
    for (const listener of listeners) listener();
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head++];
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      next();
    } else {
      this.available++;
    }
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at once; results in the items' order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
