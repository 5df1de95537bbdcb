import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { DriveseedError } from '../errors.js';
import type { StreamSource } from './stream-archiver.js';

/** What of a command's stderr is kept for the one-line error and the job's record. */
const STDERR_TAIL = 4096;

export interface CommandSource extends StreamSource {
  /** The end of what the command wrote to stderr. */
  stderrTail(): string;
}

/**
 * A command's stdout as a stream to back up (restic's --stdin-from-command). Its stderr is
 * passed on as it comes (the user sees pg_dump's own complaints) and its end kept. finished()
 * is what makes a failed dump never a snapshot: it throws one line when the command could not
 * start, exited non-zero or was killed.
 */
export function commandSource(argv: string[], onStderr: (chunk: Buffer) => void = () => undefined, what?: string): CommandSource {
  const [program, ...args] = argv;
  if (!program) throw new DriveseedError('USAGE', 'no command given', { hint: 'put the command after --, e.g. --stdin-from-command -- pg_dump sales' });
  // Named by its base name in messages: `/usr/lib/postgresql/15/bin/pg_dump exited …` buries the point.
  const name = what ?? basename(program);
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    onStderr(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  // Settled by the first of 'error' (it never started) and 'close' (it exited, its pipes are drained).
  const outcome = new Promise<{ error?: NodeJS.ErrnoException; code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ error, code: null, signal: null }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const lastLine = (): string => {
    const line = tail.trim().split('\n').at(-1)?.trim();
    return line ? `: ${line}` : '';
  };
  return {
    what: name,
    data: child.stdout,
    cancel: () => child.kill('SIGTERM'),
    stderrTail: () => tail,
    async finished() {
      const { error, code, signal } = await outcome;
      if (error) {
        const why = error.code === 'ENOENT' ? 'not found' : (error.code ?? error.message);
        throw new DriveseedError('NOT_FOUND', `cannot run ${name}: ${why}; no snapshot saved`, { hint: 'check the command and PATH' });
      }
      if (signal) throw new DriveseedError('IO', `${name} was killed by ${signal}${lastLine()}; no snapshot saved`);
      if (code !== 0) throw new DriveseedError('IO', `${name} exited with status ${code}${lastLine()}; no snapshot saved`);
    },
  };
}
