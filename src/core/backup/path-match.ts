import { basename } from 'node:path';
import { Minimatch, minimatch } from 'minimatch';

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
 * The same rule for a walk that asks about every path: each pattern compiled once. minimatch()
 * compiles its pattern at every call, which made four excludes triple the CPU of an unchanged
 * backup of 100,000 files (1.0 → 3.8 s).
 */
export class PathMatcher {
  private readonly compiled: Minimatch[];

  constructor(readonly patterns: readonly string[]) {
    this.compiled = patterns.map((p) => new Minimatch(p, OPTIONS));
  }

  get empty(): boolean {
    return this.compiled.length === 0;
  }

  matches(path: string): boolean {
    if (this.compiled.length === 0) return false;
    const name = path.slice(path.lastIndexOf('/') + 1);
    return this.compiled.some((m) => m.match(path) || m.match(name));
  }

  /** mayMatchBelow for any of the patterns. */
  mayMatchBelow(dir: string): boolean {
    return this.compiled.some((m) => !m.pattern.includes('/') || m.match(dir, true));
  }
}

/**
 * Could something below directory `dir` match `pattern`? A name pattern can match at any
 * depth; a path pattern only below a directory its leading part matches.
 */
export function mayMatchBelow(dir: string, pattern: string): boolean {
  return !pattern.includes('/') || minimatch(dir, pattern, { ...OPTIONS, partial: true });
}
