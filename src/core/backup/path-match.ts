import { basename } from 'node:path';
import { minimatch } from 'minimatch';

/*
 * The one matching rule of every include and exclude, in backup and restore alike:
 *
 *   a pattern matches a path when it matches the whole path (`/srv/data/*.log`, `**\/cache`)
 *   or the path's last name (`*.gz`, `node_modules`).
 *
 * So a pattern without a slash picks names at any depth, and one with a slash picks by where
 * a path is. Dot files are matched like any other (`*` takes `.env`). A matching directory
 * brings everything below it (for an include) or leaves it all out (for an exclude).
 * Before this rule restore's includes matched only whole paths, so `--include '*.gz'`
 * restored nothing and said nothing, while backup's excludes matched names too.
 */

const OPTIONS = { dot: true } as const;

export function matchesPattern(path: string, pattern: string): boolean {
  return minimatch(path, pattern, OPTIONS) || minimatch(basename(path), pattern, OPTIONS);
}

export function matchesAny(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesPattern(path, p));
}

/**
 * Could something below directory `dir` match `pattern`? A name pattern can match at any
 * depth; a path pattern only below a directory its leading part matches.
 */
export function mayMatchBelow(dir: string, pattern: string): boolean {
  return !pattern.includes('/') || minimatch(dir, pattern, { ...OPTIONS, partial: true });
}
