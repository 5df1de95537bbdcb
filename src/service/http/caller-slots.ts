/**
 * How many of something each caller (a subscription) may hold open at once: uploads,
 * downloads, live event streams. One tenant that opens many holds its own slots only; another
 * tenant's are untouched. A caller at its limit waits, in arrival order, for one of its own to
 * be freed (`acquire`), or is told no (`tryAcquire`).
 */
export class CallerSlots {
  private readonly callers = new Map<string, { open: number; queued: (() => void)[] }>();

  constructor(readonly perCaller: number) {
    if (!(perCaller > 0)) throw new RangeError(`a caller needs a positive number of slots, not ${perCaller}`);
  }

  /** Resolves, once `caller` has a free slot, with the function that frees it again (idempotent). */
  acquire(caller: string): Promise<() => void> {
    const free = this.tryAcquire(caller);
    if (free) return Promise.resolve(free);
    // A freed slot is handed over, still counted, so no newcomer slips into it meanwhile.
    return new Promise((resolve) => this.callers.get(caller)!.queued.push(() => resolve(this.freer(caller))));
  }

  /** The function that frees a slot taken now, or undefined when `caller` has none free. */
  tryAcquire(caller: string): (() => void) | undefined {
    let state = this.callers.get(caller);
    if (!state) this.callers.set(caller, (state = { open: 0, queued: [] }));
    if (state.open >= this.perCaller) return undefined;
    state.open++;
    return this.freer(caller);
  }

  /** Slots `caller` holds, and acquires waiting for one. */
  count(caller: string): { open: number; queued: number } {
    const state = this.callers.get(caller);
    return { open: state?.open ?? 0, queued: state?.queued.length ?? 0 };
  }

  private freer(caller: string): () => void {
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const state = this.callers.get(caller)!;
      const next = state.queued.shift();
      if (next) next();
      else if (--state.open === 0) this.callers.delete(caller);
    };
  }
}
