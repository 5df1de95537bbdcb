import { spawn } from 'node:child_process';

/** What of a hook's output is kept for the report and the job's record. */
const OUTPUT_TAIL = 4096;

export interface HookResult {
  command: string;
  /** null when it was killed or could not start. */
  exitCode: number | null;
  signal: string | null;
  /** The end of its stdout and stderr, interleaved as they came. */
  output: string;
  durationMs: number;
}

export interface Hooks {
  pre?: string;
  post?: string;
  /** A hook's output as it comes (the CLI passes it to stderr, where it does not mix with --json). */
  onOutput?: (chunk: Buffer) => void;
  /**
   * Records the post hook as owed, durably, before the pre hook runs; what it resolves to
   * clears the record once the post hook ran. A process killed in between leaves the record
   * for the next run (the agent's owed-post-hooks.ts).
   */
  owe?: (post: string) => Promise<() => Promise<void>>;
}

export interface HookedRun<T> {
  result: T;
  pre?: HookResult;
  post?: HookResult;
}

/** The hooks that ran before a run failed, kept with its error for the job's record. */
const hooksOfFailures = new WeakMap<object, { pre?: HookResult; post?: HookResult }>();

/** How the hooks ran around a run that failed with `error` (thrown by withHooks), if it had any. */
export function hooksOfFailure(error: unknown): { pre?: HookResult; post?: HookResult } | undefined {
  return typeof error === 'object' && error !== null ? hooksOfFailures.get(error) : undefined;
}

function withHooksOfFailure(error: unknown, hooks: { pre?: HookResult; post?: HookResult }): unknown {
  if (typeof error === 'object' && error !== null)
    hooksOfFailures.set(error, { ...(hooks.pre ? { pre: hooks.pre } : {}), ...(hooks.post ? { post: hooks.post } : {}) });
  return error;
}

export function hookFailed(hook: HookResult | undefined): boolean {
  return hook !== undefined && hook.exitCode !== 0;
}

/** One line that says how a hook ended: for warnings and errors. */
export function describeHook(kind: 'pre' | 'post', hook: HookResult): string {
  const how = hook.signal ? `was killed by ${hook.signal}` : hook.exitCode === null ? 'could not start' : `exited with status ${hook.exitCode}`;
  const last = hook.output.trim().split('\n').at(-1)?.trim();
  return `${kind} hook ${JSON.stringify(hook.command)} ${how}${last ? `: ${last}` : ''}`;
}

/** Runs a hook through the shell (so `pg_ctl … && sync` works) and reports how it ended; never throws. */
export function runHook(command: string, onOutput: (chunk: Buffer) => void = () => undefined): Promise<HookResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk: Buffer): void => {
      onOutput(chunk);
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const end = (exitCode: number | null, signal: string | null, extra = ''): void =>
      resolve({ command, exitCode, signal, output: output + extra, durationMs: Date.now() - started });
    child.once('error', (e) => end(null, null, e.message));
    child.once('close', (code, signal) => end(code, signal));
  });
}

/**
 * A backup between its hooks: the pre hook first (quiesce a database, take an LVM snapshot);
 * when it fails the backup does not run. The post hook runs in every case, after the backup
 * succeeded, failed or never ran, since it undoes what the pre hook may have half done. The
 * backup's own error wins over a hook's; `onPreFailed` makes the error for a pre hook that failed.
 */
export async function withHooks<T>(hooks: Hooks, run: () => Promise<T>, onPreFailed: (pre: HookResult, post?: HookResult) => Error): Promise<HookedRun<T>> {
  const settle = hooks.post !== undefined && hooks.owe ? await hooks.owe(hooks.post) : undefined;
  const post = async (): Promise<HookResult | undefined> => {
    if (hooks.post === undefined) return undefined;
    const ran = await runHook(hooks.post, hooks.onOutput);
    await settle?.();
    return ran;
  };
  const pre = hooks.pre !== undefined ? await runHook(hooks.pre, hooks.onOutput) : undefined;
  if (pre && hookFailed(pre)) {
    const ran = await post();
    throw withHooksOfFailure(onPreFailed(pre, ran), { pre, post: ran });
  }
  let result: T;
  try {
    result = await run();
  } catch (e) {
    const ran = await post();
    if (ran && hookFailed(ran)) hooks.onOutput?.(Buffer.from(`warning: ${describeHook('post', ran)}\n`));
    throw withHooksOfFailure(e, { pre, post: ran });
  }
  return { result, pre, post: await post() };
}
