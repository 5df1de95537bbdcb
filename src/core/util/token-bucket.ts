/** What a bucket reads the time from and waits with: the real clock, or a test's. */
export interface BucketClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: BucketClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The burst a bucket allows: a twentieth of a second of the rate. A bucket of a whole second
 * sent a second's bytes at once and then nothing for a second — on a thin link shared with an
 * office, a second of saturation each time.
 */
const BURST_SECONDS = 0.05;
/** Never less than this in one piece: a write of a few bytes at a time costs more than it meters. */
const MIN_PIECE = 4096;

/**
 * A token bucket that refills continuously at a rate read from the clock at every refill, so
 * a schedule's rate takes over when the time crosses a rule's boundary, in the middle of a
 * transfer. `take` hands out at most one burst at a time: a large request waits in small
 * steps, and requests are served in order so none is starved.
 */
export class TokenBucket {
  private tokens = 0;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    /** Bytes per second at a time; undefined: no limit then. */
    private readonly rateAt: (at: Date) => number | undefined,
    private readonly clock: BucketClock = realClock,
  ) {
    this.last = clock.now();
  }

  /** The rate now, for a caller that cuts its writes into pieces of about one burst. */
  pieceSize(): number {
    const rate = this.rateAt(new Date(this.clock.now()));
    return rate === undefined ? Infinity : Math.max(MIN_PIECE, Math.floor(rate * BURST_SECONDS));
  }

  /** Resolves once `bytes` may go. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(bytes: number): Promise<void> {
    let left = bytes;
    while (left > 0) {
      const rate = this.refill();
      if (rate === undefined) return;
      const piece = Math.min(left, Math.max(MIN_PIECE, Math.floor(rate * BURST_SECONDS)));
      if (this.tokens < piece) {
        // At least a millisecond (timers have no finer grain): a wait of a fraction of a byte, lost in the clock's rounding, never ends.
        await this.clock.sleep(Math.max(1, Math.ceil(((piece - this.tokens) / rate) * 1000)));
        continue; // the rate may have changed meanwhile: refill and look again
      }
      this.tokens -= piece;
      left -= piece;
    }
  }

  /** Adds what the time since the last refill earned, at most one burst; the rate now. */
  private refill(): number | undefined {
    const now = this.clock.now();
    const rate = this.rateAt(new Date(now));
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    if (rate === undefined) {
      this.tokens = 0;
      return undefined;
    }
    const burst = Math.max(MIN_PIECE, rate * BURST_SECONDS);
    this.tokens = Math.min(burst, this.tokens + elapsed * rate);
    return rate;
  }
}
