/**
 * A bound on the bytes of request bodies the service holds in memory at once. Blob uploads are
 * read whole before they are checked and stored (blob-body.ts), so without a bound fifty agents
 * sending 128 MiB blobs would need 6 GiB. A body waits for room before its first byte is read:
 * its client is held back by TCP, and nothing is refused.
 *
 * Waiters are served in arrival order, so small bodies never starve a large one. A body larger
 * than the whole budget is let in alone, once nothing else is held.
 */
export class ByteBudget {
  private held = 0;
  private readonly waiters: { bytes: number; admit: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`a byte budget needs a positive capacity, not ${capacity}`);
  }

  /** Bytes held by admitted bodies. */
  get inUse(): number {
    return this.held;
  }

  /** Bodies waiting for room. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves once `bytes` fit, with the function that gives them back (idempotent). */
  async reserve(bytes: number): Promise<() => void> {
    if (this.waiters.length > 0 || !this.fits(bytes)) {
      await new Promise<void>((admit) => this.waiters.push({ bytes, admit }));
    } else {
      this.held += bytes;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      this.admitWaiters();
    };
  }

  private fits(bytes: number): boolean {
    return this.held === 0 || this.held + bytes <= this.capacity;
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const next = this.waiters.shift()!;
      this.held += next.bytes;
      next.admit();
    }
  }
}
