import { readFileSync } from 'node:fs';
import { DriveseedError } from '../core/errors.js';

/**
 * The patterns of an --exclude-file, as restic reads one: a pattern a line, surrounding
 * blanks trimmed, blank lines and lines starting with # skipped.
 */
export function readExcludeFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DriveseedError('USAGE', `cannot read exclude file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
