import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { Repository } from '../core/repo/repository.js';
import type { FileProblem } from '../core/repo/index-loader.js';
import { SNAPSHOTS_DIR } from '../core/repo/layout.js';
import type { RepositoryLock } from '../core/repo/lock.js';
import { openStore } from '../core/storage/open-store.js';
import { localPathsOf } from '../core/storage/blob-store.js';
import { withRepositoryCache } from '../client/common/repository-cache.js';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RepoFlags {
  repo?: string;
  passwordFile?: string;
  cacheDir?: string;
  /** False with --no-cache. */
  cache?: boolean;
}

export function addRepoOptions(cmd: Command): Command {
  return cmd
    .option('-r, --repo <loc>', 'repository location: a directory or azure://CONTAINER (env DRIVESEED_REPO)')
    .option('--password-file <file>', 'read the repository password from FILE (env DRIVESEED_PASSWORD)')
    .option('--cache-dir <dir>', 'local metadata cache of a remote repository (env DRIVESEED_CACHE_DIR; default ~/.cache/driveseed)')
    .option('--no-cache', 'read a remote repository without the local metadata cache');
}

export function repoLocation(flags: RepoFlags): string {
  const loc = flags.repo ?? process.env.DRIVESEED_REPO;
  if (!loc) throw new DriveseedError('USAGE', 'no repository given', { hint: 'pass --repo LOC or set DRIVESEED_REPO' });
  return loc;
}

/** Secrets come from the environment or a file, never from a flag's value. */
export function readPassword(flags: RepoFlags): string {
  if (flags.passwordFile) {
    let password: string;
    try {
      password = readFileSync(flags.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new DriveseedError('USAGE', `cannot read password file ${flags.passwordFile}: ${(e as NodeJS.ErrnoException).code}`);
    }
    // An empty file is a mistake (a truncated secret, the wrong path), never a password: a
    // repository made with it would be readable by anyone.
    if (password === '') throw new DriveseedError('USAGE', `password file ${flags.passwordFile} is empty`, { hint: 'write the repository password into it' });
    return password;
  }
  const env = process.env.DRIVESEED_PASSWORD;
  if (env !== undefined && env !== '') return env;
  throw new DriveseedError('USAGE', 'no repository password given', { hint: 'set DRIVESEED_PASSWORD or pass --password-file FILE' });
}

/**
 * The repository at --repo. One that is not a local directory (Azure) is read through a local
 * metadata cache (docs/cache.md): its index, snapshot and tree files are downloaded once, not
 * by every command. A local directory needs none: its files are on this disk already.
 */
export async function openRepository(flags: RepoFlags): Promise<Repository> {
  const store = await openStore(repoLocation(flags));
  const repo = await Repository.open(store, readPassword(flags));
  if (localPathsOf(store) || flags.cache === false) return repo;
  return withRepositoryCache(repo, join(cacheRoot(flags), repo.config.id));
}

function cacheRoot(flags: RepoFlags): string {
  return flags.cacheDir ?? process.env.DRIVESEED_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'driveseed');
}

/**
 * Runs `fn` under a repository lock and always releases it — also on Ctrl-C or SIGTERM, so
 * an interrupted command leaves no lock behind (a kill -9 leaves one, which is stale by itself).
 */
export async function withLock<T>(repo: Repository, exclusive: boolean, command: string, fn: (lock: RepositoryLock) => Promise<T>): Promise<T> {
  let lock: RepositoryLock | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const exitAfterRelease = (signal: NodeJS.Signals) => {
    process.stderr.write(`\ndriveseed: interrupted (${signal}); releasing the repository lock\n`);
    void (lock?.release() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  // Handlers go in before the lock is taken: a signal during acquisition must not leave it behind.
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    if (lock) exitAfterRelease(signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    lock = await repo.lock(exclusive, command);
    if (interrupted) {
      exitAfterRelease(interrupted);
      return await new Promise<never>(() => undefined);
    }
    return await fn(lock);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await lock?.release();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A whole number, 0 or more: what a count option takes. */
export function wholeNumber(value: string): number {
  // Digits only: Number() alone takes '', '0x10' and '1e3' as numbers.
  if (!/^\s*\d+\s*$/.test(value)) throw new DriveseedError('USAGE', `not a whole number: ${value}`);
  return Number(value);
}

/**
 * Readers go on past a damaged file: a damaged index file's packs are read from their
 * headers, a damaged snapshot is passed over. Say so, and, for a repository the user runs
 * the engine on (not the agent's vault, which the service keeps), what repairs it.
 */
export function warnDamagedFile(problem: FileProblem, repairable = true): void {
  const snapshot = problem.file.startsWith(SNAPSHOTS_DIR);
  const instead = snapshot ? 'passed over' : 'packs indexed from their headers instead';
  const repair = repairable ? `; \`driveseed repair ${snapshot ? 'snapshots` removes' : 'index` rebuilds'} it` : '';
  process.stderr.write(`warning: ${problem.file}: ${problemMessage(problem)} (${instead}${repair})\n`);
}

/** What is wrong with the file, without its name again (the reader's own message usually starts with it). */
export function problemMessage(problem: FileProblem): string {
  const named = `${problem.file}: `;
  return problem.message.startsWith(named) ? problem.message.slice(named.length) : problem.message;
}

/** Resolves on Ctrl-C or SIGTERM: a foreground command's cue to stop gracefully. */
export function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
