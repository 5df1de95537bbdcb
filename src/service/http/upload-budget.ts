import { CallerSlots } from './caller-slots.js';

/**
 * The memory and the upload slots the service gives blob bodies, shared fairly between
 * callers (subscriptions). Blob uploads are read whole before they are checked and stored
 * (blob-body.ts), so without a bound fifty agents sending 128 MiB blobs would need 6 GiB.
 *
 * Bytes are taken as they arrive, never from a declared length: a body that declares 128 MiB
 * and sends one byte holds one byte. A caller holds at most its share of the memory and at most
 * `streamsPerCaller` uploads at once; past either, its own bodies wait (their clients are held
 * back by TCP) while other callers' go on. Nothing is refused.
 *
 * Bodies that wait for room can wait on each other: twenty 16 MiB bodies, each half received,
 * fill 256 MiB and none can finish. So when every body that holds memory (of one caller, for
 * its share; of all, for the whole) is itself waiting, the oldest of them goes on past the
 * bound: at most one body at a time is over, and only while every other one waits for it.
 * A body whose client stalls is not waiting for room; the idle timeout of blob-body.ts ends it.
 */
export interface UploadBudgetOptions {
  /** Body bytes held in memory at once, over all callers. */
  capacity: number;
  /** Body bytes one caller may hold at once (default a quarter of the capacity). */
  perCaller?: number;
  /** Uploads one caller may have open at once (default 16: an agent sends a few packs in parallel). */
  streamsPerCaller?: number;
}

export const DEFAULT_STREAMS_PER_CALLER = 16;

/** One upload's claim on the budget, from its slot to its release. */
export interface UploadLease {
  /** Takes `bytes` if they fit now, else returns false (then wait with `take`). */
  tryTake(bytes: number): boolean;
  /** Resolves once `bytes` are taken. */
  take(bytes: number): Promise<void>;
  /** Gives back every byte taken and the slot; idempotent. A take still waiting never resolves. */
  release(): void;
}

interface Lease {
  /** Order of opening: the oldest waiting lease is the one let past a bound. */
  seq: number;
  caller: string;
  held: number;
  /** Set while a take waits for room. */
  want?: { bytes: number; admit: () => void };
}

interface CallerState {
  held: number;
  open: Set<Lease>;
}

export class UploadBudget {
  readonly capacity: number;
  readonly perCaller: number;
  readonly streamsPerCaller: number;
  private held = 0;
  private seq = 0;
  private readonly callers = new Map<string, CallerState>();
  private readonly slots: CallerSlots;
  /** Leases whose take waits, in the order they started waiting. */
  private readonly waiting: Lease[] = [];

  constructor(options: UploadBudgetOptions) {
    this.capacity = options.capacity;
    this.perCaller = options.perCaller ?? Math.ceil(options.capacity / 4);
    this.streamsPerCaller = options.streamsPerCaller ?? DEFAULT_STREAMS_PER_CALLER;
    this.slots = new CallerSlots(this.streamsPerCaller);
    for (const [what, value] of [
      ['capacity', this.capacity],
      ['share per caller', this.perCaller],
      ['uploads per caller', this.streamsPerCaller],
    ] as const) {
      if (!(value > 0)) throw new RangeError(`an upload budget needs a positive ${what}, not ${value}`);
    }
  }

  /** Body bytes held, over all callers. */
  get inUse(): number {
    return this.held;
  }

  /** Uploads whose next bytes wait for room. */
  get waitingForRoom(): number {
    return this.waiting.length;
  }

  /** Body bytes `caller` holds. */
  heldBy(caller: string): number {
    return this.callers.get(caller)?.held ?? 0;
  }

  /** Uploads of `caller` that have a slot, and those waiting for one. */
  uploadsOf(caller: string): { open: number; queued: number } {
    return this.slots.count(caller);
  }

  /** Resolves with a lease once `caller` has a free upload slot. */
  async open(caller: string): Promise<UploadLease> {
    return this.lease(caller, await this.slots.acquire(caller));
  }

  private lease(caller: string, freeSlot: () => void): UploadLease {
    const lease: Lease = { seq: this.seq++, caller, held: 0 };
    this.stateOf(caller).open.add(lease);
    let released = false;
    return {
      tryTake: (bytes) => !released && this.tryTake(lease, bytes),
      take: (bytes) => (released || this.tryTake(lease, bytes) ? Promise.resolve() : this.wait(lease, bytes)),
      release: () => {
        if (released) return;
        released = true;
        this.release(lease);
        freeSlot();
      },
    };
  }

  private stateOf(caller: string): CallerState {
    let state = this.callers.get(caller);
    if (!state) this.callers.set(caller, (state = { held: 0, open: new Set() }));
    return state;
  }

  // Room that is given back goes first to those who wait for it: release admits them at once.
  private tryTake(lease: Lease, bytes: number): boolean {
    if (!this.fits(lease, bytes)) return false;
    this.give(lease, bytes);
    return true;
  }

  private fits(lease: Lease, bytes: number): boolean {
    return this.held + bytes <= this.capacity && this.stateOf(lease.caller).held + bytes <= this.perCaller;
  }

  private give(lease: Lease, bytes: number): void {
    lease.held += bytes;
    this.stateOf(lease.caller).held += bytes;
    this.held += bytes;
  }

  private wait(lease: Lease, bytes: number): Promise<void> {
    return new Promise<void>((admit) => {
      lease.want = { bytes, admit };
      this.waiting.push(lease);
      this.admitWaiters();
    });
  }

  private release(lease: Lease): void {
    const state = this.stateOf(lease.caller);
    this.held -= lease.held;
    state.held -= lease.held;
    lease.held = 0;
    state.open.delete(lease);
    const at = this.waiting.indexOf(lease);
    if (at >= 0) this.waiting.splice(at, 1);
    lease.want = undefined;
    if (state.open.size === 0) this.callers.delete(lease.caller);
    this.admitWaiters();
  }

  /** Lets in every waiting take that fits, in order; then breaks a wait that nothing else could end. */
  private admitWaiters(): void {
    for (let progress = true; progress && this.waiting.length > 0;) {
      progress = false;
      for (const lease of [...this.waiting]) {
        if (this.fits(lease, lease.want!.bytes)) {
          this.admit(lease);
          progress = true;
        }
      }
      const stuck = progress ? undefined : this.oldestStuck();
      if (stuck) {
        this.admit(stuck);
        progress = true;
      }
    }
  }

  /**
   * The oldest waiting lease when waiting is all that holds it back: every lease that holds
   * memory waits too (for the whole budget), or every one of its caller's does (for its share,
   * with room in the whole).
   */
  private oldestStuck(): Lease | undefined {
    const byAge = [...this.waiting].sort((a, b) => a.seq - b.seq);
    const holdersWait = (leases: Iterable<Lease>) => [...leases].every((l) => l.held === 0 || l.want !== undefined);
    if (holdersWait([...this.callers.values()].flatMap((s) => [...s.open]))) return byAge[0];
    return byAge.find((l) => this.held + l.want!.bytes <= this.capacity && holdersWait(this.stateOf(l.caller).open));
  }

  private admit(lease: Lease): void {
    const want = lease.want!;
    this.waiting.splice(this.waiting.indexOf(lease), 1);
    lease.want = undefined;
    this.give(lease, want.bytes);
    want.admit();
  }
}
