import { createInterface } from 'node:readline';
import { DriveseedError } from '../core/errors.js';
import type { Prompter } from '../client/diskprep/diskprep.js';

/**
 * Questions on stderr, answers from stdin, one line each. Lines are read through one iterator
 * so answers piped in ahead of the questions are not lost; when input ends, the question
 * that found no answer is named so the user knows which flag to pass instead.
 */
export function terminalPrompter(): Prompter & { close(): void } {
  let lines: AsyncIterator<string> | undefined;
  let rl: ReturnType<typeof createInterface> | undefined;
  return {
    interactive: true,
    async ask(question: string): Promise<string> {
      // On a terminal the question comes first; with piped answers it is echoed with its answer,
      // so a closed input leaves one clean error line rather than a dangling question.
      const terminal = process.stdin.isTTY;
      if (terminal) process.stderr.write(question);
      rl ??= createInterface({ input: process.stdin, terminal: false });
      lines ??= rl[Symbol.asyncIterator]();
      const next = await lines.next();
      if (next.done) throw new DriveseedError('USAGE', `no answer to "${question.trim()}" (input closed)`, { hint: 'give it as a flag; see --help' });
      if (!terminal) process.stderr.write(`${question}${next.value}\n`);
      return next.value;
    },
    say(line: string): void {
      process.stderr.write(`${line}\n`);
    },
    close(): void {
      rl?.close();
    },
  };
}
