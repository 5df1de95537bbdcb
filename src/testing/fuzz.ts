import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DriveseedError } from '../core/errors.js';

/*
 * Property-based fuzzing of decoders (issue 15): every decoder reads bytes someone else wrote
 * — a customer's drive, a tenant's request, a damaged disk — so the only outcomes allowed are
 * a value or a DriveseedError with a one-line message; anything else (a TypeError from deep
 * inside, a RangeError, a hang, a gigabyte allocated on a length field's word) is a bug.
 *
 * Inputs are random bytes and, mostly, mutations of valid encodings: a random file rarely gets
 * past a magic number or JSON.parse, a valid one with a bit flipped or a length set to 2^32
 * reaches the checks behind them. The short run is part of `npm test`; `npm run bench:fuzz`
 * runs the same tests with FUZZ_RUNS=100000.
 */

/** What a decoder under fuzz is: valid encodings to mutate, and the decoder itself. */
export interface FuzzTarget {
  name: string;
  /** Valid encodings: mutations of these reach past the first checks. */
  samples: readonly Buffer[];
  decode: (input: Buffer) => unknown;
  /** Extra checks on a value the decoder returned (e.g. a size is a safe integer). */
  checkValue?: (value: unknown, input: Buffer) => void;
  /** Longest input tried (bytes; default twice the largest sample, at least 4 KiB): longer ones only cost time. */
  maxLength?: number;
  /**
   * Buffer memory the decoder may allocate for an input (default 64 MiB plus 64 bytes per
   * input byte): a length field set to 2^32 must be checked before anything of that size is.
   */
  allocationBound?: (input: Buffer) => number;
  /** Inputs that broke the decoder once (found by this fuzzer), run first on every run. */
  regressions?: readonly Buffer[];
}

export interface FuzzOptions {
  /** Inputs to run: FUZZ_RUNS, else `defaultRuns`. */
  runs?: number;
  /** A decoder taking longer than this on one input is hanging (ms); FUZZ_TIME_BOUND_MS overrides it. */
  timeBoundMs?: number;
}

export interface FuzzStats {
  runs: number;
  seconds: number;
  outcomes: Record<string, number>;
}

const DEFAULT_RUNS = 1000;
const DEFAULT_TIME_BOUND_MS = 2000;
const DEFAULT_ALLOCATION_BOUND = 64 * 1024 * 1024;

/** The seed of this process's runs: FUZZ_SEED replays a failure fast-check reported. */
export function fuzzSeed(): number {
  const given = process.env.FUZZ_SEED;
  return given !== undefined ? Number(given) : (Date.now() ^ (process.pid << 16)) | 0;
}

export function fuzzRuns(defaultRuns = DEFAULT_RUNS): number {
  const given = Number(process.env.FUZZ_RUNS);
  return Number.isSafeInteger(given) && given > 0 ? given : defaultRuns;
}

const HUGE_U32 = [0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0x1000_0000, 0];

/** One change to a valid encoding. */
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; other: number; from: number }
  | { kind: 'huge'; at: number; value: number; be: boolean }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'json'; path: number; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), other: fc.nat(), from: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), value: fc.constantFrom(...HUGE_U32), be: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      path: fc.nat(),
      // Values a damaged or crafted JSON file holds where a decoder expects another: nulls,
      // wrong types, huge and fractional numbers, strings with newlines.
      value: fc.oneof(
        fc.constantFrom(null, true, -1, 0.5, 2 ** 32, 2 ** 53, 1e308, '', '\n', '..', '/', 'a\nb', [], {}, [null], { length: 2 ** 32 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    }),
  },
);

function apply(samples: readonly Buffer[], sample: Buffer, m: Mutation): Buffer {
  if (m.kind === 'json') return mutateJson(sample, m.path, m.value) ?? Buffer.from(sample);
  const at = sample.length === 0 ? 0 : m.kind === 'truncate' || m.kind === 'insert' ? m.at % (sample.length + 1) : m.at % sample.length;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(sample);
      if (out.length > 0) out[at] ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return Buffer.from(sample.subarray(0, at));
    case 'splice': {
      const other = samples[m.other % samples.length]!;
      return Buffer.concat([sample.subarray(0, at), other.subarray(other.length === 0 ? 0 : m.from % other.length)]);
    }
    case 'huge': {
      const out = Buffer.from(sample);
      if (out.length >= 4) {
        const where = Math.min(at, out.length - 4);
        if (m.be) out.writeUInt32BE(m.value, where);
        else out.writeUInt32LE(m.value, where);
      }
      return out;
    }
    case 'insert':
      return Buffer.concat([sample.subarray(0, at), m.bytes, sample.subarray(at)]);
  }
}

/** Replaces one value inside a JSON sample (the path-th value met, depth first); undefined when the sample is not JSON. */
function mutateJson(sample: Buffer, path: number, value: unknown): Buffer | undefined {
  let root: unknown;
  try {
    root = JSON.parse(sample.toString('utf8'));
  } catch {
    return undefined;
  }
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    for (const [key, child] of Object.entries(node)) {
      slots.push({ parent: node as Record<string, unknown>, key: Array.isArray(node) ? Number(key) : key });
      walk(child);
    }
  };
  walk(root);
  if (slots.length === 0) return Buffer.from(JSON.stringify(value) ?? 'null');
  const slot = slots[path % slots.length]!;
  (slot.parent as Record<string | number, unknown>)[slot.key] = value;
  return Buffer.from(JSON.stringify(root));
}

/** Random bytes, and mutations (one to three) of the valid samples. */
export function fuzzInputs(samples: readonly Buffer[], maxLength = 4096): fc.Arbitrary<Buffer> {
  const random = fc.uint8Array({ maxLength: Math.min(maxLength, 1024) }).map((bytes) => Buffer.from(bytes));
  if (samples.length === 0) return random;
  const mutated = fc
    .tuple(fc.nat(samples.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([i, mutations]) => mutations.reduce((input, m) => apply(samples, input, m), samples[i]!).subarray(0, maxLength));
  return fc.oneof({ weight: 1, arbitrary: random }, { weight: 6, arbitrary: mutated }, { weight: 1, arbitrary: fc.constantFrom(...samples) });
}

/**
 * The outcome rule: a value (checked by `checkValue`), or a DriveseedError with a non-empty
 * one-line message. Returns the outcome's name for the tally ('value' or the error's code).
 */
export function checkOutcome(target: FuzzTarget, input: Buffer, run: () => unknown): string {
  let value: unknown;
  try {
    value = run();
  } catch (e) {
    if (!(e instanceof DriveseedError)) {
      throw new Error(`${target.name}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (not a DriveseedError) on ${describeInput(input)}`, {
        cause: e,
      });
    }
    assert.ok(
      e.message.length > 0 && !/[\r\n]/.test(e.message),
      `${target.name}: message is not one line: ${JSON.stringify(e.message)} on ${describeInput(input)}`,
    );
    return e.code;
  }
  target.checkValue?.(value, input);
  return 'value';
}

export function describeInput(input: Buffer): string {
  return `${input.length} bytes ${JSON.stringify(input.subarray(0, 200).toString('latin1'))}`;
}

/**
 * Runs a target under fast-check: seeded (fast-check prints the seed and the shrunk input on
 * failure; FUZZ_SEED=… replays it), each input within the time and allocation bounds.
 */
export function fuzz(target: FuzzTarget, options: FuzzOptions = {}): FuzzStats {
  const runs = fuzzRuns(options.runs);
  const timeBoundMs = Number(process.env.FUZZ_TIME_BOUND_MS) || options.timeBoundMs || DEFAULT_TIME_BOUND_MS;
  const allocationBound = target.allocationBound ?? ((input: Buffer) => DEFAULT_ALLOCATION_BOUND + 64 * input.length);
  const maxLength = target.maxLength ?? Math.max(4096, 2 * Math.max(0, ...target.samples.map((s) => s.length)));
  const outcomes: Record<string, number> = {};
  const started = performance.now();
  const seed = fuzzSeed();
  const details = fc.check(
    fc.property(fuzzInputs(target.samples, maxLength), (input) => {
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      const outcome = checkOutcome(target, input, () => target.decode(input));
      const ms = performance.now() - t0;
      // A synchronous decoder cannot be stopped, only timed: one that loops on an input fails
      // here once it returns, and one that never returns hangs the test, which then times out.
      assert.ok(ms <= timeBoundMs, `${target.name}: took ${ms.toFixed(0)} ms on ${describeInput(input)}`);
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown <= allocationBound(input), `${target.name}: allocated ${grown} bytes on ${describeInput(input)}`);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }),
    { numRuns: runs, seed, endOnFailure: true, examples: (target.regressions ?? []).map((input) => [input] as [Buffer]) },
  );
  if (details.failed) {
    // The failure as one line a reader can act on: what broke, and how to replay it.
    const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`fuzz ${target.name} failed after ${details.numRuns} inputs: ${why} (replay with FUZZ_SEED=${seed})`, { cause: details.errorInstance });
  }
  const stats = { runs, seconds: (performance.now() - started) / 1000, outcomes };
  report(target.name, stats);
  return stats;
}

/** What a service under fuzz is: like FuzzTarget, but each input is answered asynchronously (a request). */
export interface AsyncFuzzTarget {
  name: string;
  samples: readonly Buffer[];
  /** Returns the outcome's name for the tally; throws (anything) when the outcome is not allowed. */
  run: (input: Buffer) => Promise<string>;
  maxLength?: number;
}

/** As fuzz(), for targets answered asynchronously: each input within the time bound, seeded the same way. */
export async function fuzzAsync(target: AsyncFuzzTarget, options: FuzzOptions = {}): Promise<FuzzStats> {
  const runs = fuzzRuns(options.runs);
  const timeBoundMs = Number(process.env.FUZZ_TIME_BOUND_MS) || options.timeBoundMs || DEFAULT_TIME_BOUND_MS;
  const maxLength = target.maxLength ?? Math.max(4096, 2 * Math.max(0, ...target.samples.map((s) => s.length)));
  const outcomes: Record<string, number> = {};
  const seed = fuzzSeed();
  const started = performance.now();
  const details = await fc.check(
    fc.asyncProperty(fuzzInputs(target.samples, maxLength), async (input) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${target.name}: no outcome within ${timeBoundMs} ms on ${describeInput(input)}`)), timeBoundMs);
      });
      try {
        const outcome = await Promise.race([target.run(input), timeout]);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      } finally {
        clearTimeout(timer);
      }
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  if (details.failed) {
    const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`fuzz ${target.name} failed after ${details.numRuns} inputs: ${why} (replay with FUZZ_SEED=${seed})`, { cause: details.errorInstance });
  }
  const stats = { runs, seconds: (performance.now() - started) / 1000, outcomes };
  report(target.name, stats);
  return stats;
}

/** One line per target: the bench reads inputs/s and outcomes from the test output. */
export function report(name: string, stats: FuzzStats): void {
  const tally = Object.entries(stats.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
  console.log(`fuzz ${name}: ${stats.runs} inputs in ${stats.seconds.toFixed(2)} s (${Math.round(stats.runs / stats.seconds)}/s): ${tally}`);
}
