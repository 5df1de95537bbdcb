import {
  chmodSync,
  chownSync,
  closeSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readlinkSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  type BigIntStats,
} from 'node:fs';
import { DriveseedError } from '../errors.js';
import { localPathsOf, type LocalPaths } from '../storage/blob-store.js';
import { join } from 'node:path';
import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises';
import type { Id } from '../repo/ids.js';
import type { Repository } from '../repo/repository.js';
import type { StoredSnapshot } from '../repo/snapshot.js';
import { decodeTree, type TreeNode } from '../repo/tree.js';
import { Semaphore } from '../util/semaphore.js';
import { RestorePool } from './restore-pool.js';
import { RemoteFiles } from './remote-files.js';
import { CREATE_FILE_FLAGS, type FileMetaJob, type LocalBlob } from './restore-protocol.js';
import { packName } from '../repo/layout.js';
import { DEFAULT_OVERWRITE, shouldOverwrite, type OverwritePolicy } from './overwrite.js';
import { PathMatcher } from './path-match.js';

export interface RestoreProgress {
  files: number;
  bytes: number;
}

export interface RestoreOptions {
  target: string;
  /** Patterns on snapshot paths, by the rule of path-match.ts; a matching directory brings all below it. */
  includes?: string[];
  /** Patterns, by the same rule, of what not to restore; they win over includes. */
  excludes?: string[];
  /** What to do with a file already at a path this restore writes (overwrite.ts; default never). */
  overwrite?: OverwritePolicy;
  /** Decide and report everything, write nothing: not even the target directory. */
  dryRun?: boolean;
  /** Each file and symlink as it is decided: written (or would be), or left as it was. */
  onPlanned?: (path: string, action: 'restore' | 'skip', node: TreeNode) => void;
  onProgress?: (p: RestoreProgress) => void;
  onWarning?: (path: string, message: string) => void;
  /**
   * Recompute every data blob's id (its keyed hash) from its restored plaintext. Off by default,
   * as in restic: authenticated decryption already proves each blob is what a holder of the
   * key stored under that id (the id is in the AEAD's associated data), so the recomputation
   * only catches a writer that stored wrong content under an id — what `check --read-data`
   * finds without restoring. It costs a core about 0.3 s per 2 GB with keyed BLAKE3 (docs/format.md).
   */
  verify?: boolean;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** Files and symlinks already there and left as they were (by --overwrite). */
  skipped: number;
  warnings: { path: string; message: string }[];
}

/** Files queued at once when packs are on a local disk (each a small job for the workers). */
const PARALLEL_LOCAL_FILES = 512;
/** Files queued at once from a remote store: the batches in flight and the next ones filling. */
const PARALLEL_REMOTE_FILES = 1024;
/**
 * Trees loaded at once, each after a turn of the event loop. Tree packs are cached, so a
 * walk without turns ran in microtasks alone: all of a snapshot's trees (8k directories
 * here, with their mkdirs) before main handled a single answer from the workers, who
 * waited for the first second of the restore.
 */
const PARALLEL_TREE_LOADS = 4;
/**
 * Files waiting for a slot before the walk loads another tree. Without it every directory was
 * loaded and queued its files at once, so a restore held a node and a promise for every file
 * of the snapshot.
 */
const MAX_FILES_WAITING = 1024;
/** A file larger than this is restored in segments of about this size, one job each. */
const SEGMENT_BYTES = 32 * 1024 * 1024;

/**
 * Restores a snapshot under `target`, each path at its full original path (restic's rule).
 * A directory's metadata is applied once everything inside it is restored, because writing
 * into a directory changes its mtime.
 */
export async function restore(repo: Repository, snapshot: StoredSnapshot, options: RestoreOptions): Promise<RestoreResult> {
  const pool = new RestorePool(repo.key, repo.blobIdScheme, options.verify ?? false);
  try {
    const restorer = new Restorer(repo, pool, options);
    // The target itself may be anything the user names (a link to a big disk, say); below it
    // every directory is one this restore made or verified as a real directory.
    if (!options.dryRun) mkdirSync(options.target, { recursive: true });
    await restorer.restoreTree(snapshot.tree, '/', false, PendingDir.made(options.target));
    return restorer.result;
  } finally {
    await pool.close();
  }
}

class Restorer {
  readonly result: RestoreResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: 0, warnings: [] };
  private readonly overwrite: OverwritePolicy;
  private readonly includes: PathMatcher;
  private readonly excludes: PathMatcher;
  private readonly dryRun: boolean;
  private readonly slots: Semaphore;
  private readonly isRoot = process.getuid?.() === 0;
  /** Packs in a local directory: workers read them themselves, file by file. */
  private readonly localPacks?: LocalPaths;
  private readonly remoteFiles: RemoteFiles;
  private readonly packFiles = new Map<Id, string>();
  private readonly treeLoads = new Semaphore(PARALLEL_TREE_LOADS);

  constructor(
    private readonly repo: Repository,
    private readonly pool: RestorePool,
    private readonly options: RestoreOptions,
  ) {
    this.localPacks = localPathsOf(repo.store);
    this.slots = new Semaphore(this.localPacks ? PARALLEL_LOCAL_FILES : PARALLEL_REMOTE_FILES);
    this.remoteFiles = new RemoteFiles(repo, pool);
    this.overwrite = options.overwrite ?? DEFAULT_OVERWRITE;
    this.includes = new PathMatcher(options.includes ?? []);
    this.excludes = new PathMatcher(options.excludes ?? []);
    this.dryRun = options.dryRun ?? false;
  }

  /**
   * `here` is the directory of `snapshotPath` in the target. One that is only walked to find
   * includes below it is made when the first thing in it is restored, so `--include '*.gz'`
   * leaves no empty directories where no .gz file was.
   */
  async restoreTree(treeId: Id, snapshotPath: string, wholeSubtree: boolean, here: PendingDir): Promise<void> {
    const tree = await this.treeLoads.run(async () => {
      await turnOfTheEventLoop();
      await this.slots.queueAtMost(MAX_FILES_WAITING);
      return decodeTree(await this.repo.loadBlob('tree', treeId), `tree ${treeId}`);
    });
    const work: Promise<void>[] = [];
    for (const node of tree.nodes) {
      const path = join(snapshotPath, node.name);
      if (this.excludes.matches(path)) continue;
      const selected = wholeSubtree || this.included(path);
      if (node.type === 'dir') {
        if (!selected && !this.leadsToInclude(path)) continue;
        const dir = new PendingDir(this.targetOf(path), here, this.dryRun, () => this.result.dirs++);
        try {
          if (selected) dir.ensure();
        } catch (e) {
          this.warn(path, e);
          continue;
        }
        work.push(this.restoreTree(node.subtree!, path, selected, dir).then(() => this.finishDir(path, node, dir)));
      } else if (selected) {
        work.push(this.slots.run(() => this.restoreLeaf(path, node, here)));
      }
    }
    await Promise.all(work);
  }

  private async restoreLeaf(path: string, node: TreeNode, parent: PendingDir): Promise<void> {
    const target = this.targetOf(path);
    try {
      parent.ensure();
      const write = this.decide(target, node);
      this.options.onPlanned?.(path, write ? 'restore' : 'skip', node);
      if (!write) {
        this.result.skipped++;
        return;
      }
      if (this.dryRun) {
        this.countPlanned(node);
        return;
      }
      if (node.type === 'symlink') {
        try {
          unlinkSync(target);
        } catch {
          // nothing there yet
        }
        symlinkSync(node.linkTarget!, target);
        this.applyOwner(target, node, true);
        const t = nsToDate(node.mtimeNs);
        try {
          lutimesSync(target, t, t);
        } catch {
          // some file systems keep no times on links
        }
        this.result.symlinks++;
        return;
      }
      if (this.localPacks) {
        await this.restoreLocalFile(target, node, this.localPacks);
      } else {
        const written = await this.remoteFiles.restore(target, node); // not `+= await`: files finish concurrently
        this.result.bytes += written;
        this.applyMeta(target, node);
      }
      this.result.files++;
      this.options.onProgress?.({ files: this.result.files, bytes: this.result.bytes });
    } catch (e) {
      this.warn(path, e);
    }
  }

  /** Whether to write `node` at `target`: always where nothing is, else as --overwrite says. */
  private decide(target: string, node: TreeNode): boolean {
    const existing = lstatIfAny(target);
    return existing === undefined || shouldOverwrite(this.overwrite, existing, node, () => readlinkSync(target));
  }

  /** A dry run counts what it would write as a restore counts what it wrote. */
  private countPlanned(node: TreeNode): void {
    if (node.type === 'symlink') {
      this.result.symlinks++;
      return;
    }
    this.result.files++;
    this.result.bytes += node.size ?? 0;
  }

  /**
   * A file from local packs: one job for the workers, or (when large) its segments one after
   * another, into a file created here, with its metadata applied once all are written.
   * Not in parallel: buffered writes to one file take its inode lock (ext4, xfs, tmpfs), so
   * a second worker on the same file only spun on that lock — 5% of a restore's CPU with a
   * few large files, measured with perf — while other files waited. Segments keep jobs short,
   * so a large file does not hold a batch of small ones behind it.
   */
  private async restoreLocalFile(target: string, node: TreeNode, packs: LocalPaths): Promise<void> {
    const places = node.content!.map((id) => this.repo.locate('data', id));
    const blobs = places.map((p, i): LocalBlob => ({ id: node.content![i], packFile: this.packFile(packs, p.pack), offset: p.offset, length: p.length }));
    const size = node.size ?? 0;
    if (size <= SEGMENT_BYTES) {
      this.written(await this.pool.restoreFile({ target, at: 0, create: true, blobs, meta: this.metaJob(node) }, size));
      return;
    }
    closeSync(openSync(target, CREATE_FILE_FLAGS, 0o600));
    let at = 0;
    for (let first = 0; first < blobs.length;) {
      let bytes = 0;
      let end = first;
      while (end < blobs.length && (end === first || bytes + places[end].rawLength <= SEGMENT_BYTES)) bytes += places[end++].rawLength;
      this.written(await this.pool.restoreFile({ target, at, create: false, blobs: blobs.slice(first, end) }, bytes));
      at += bytes;
      first = end;
    }
    this.applyMeta(target, node);
  }

  /** One path string per pack, not one per blob: building and checking it was a tenth of main's time. */
  private packFile(packs: LocalPaths, pack: Id): string {
    let path = this.packFiles.get(pack);
    if (path === undefined) {
      path = packs.localPath(packName(pack));
      this.packFiles.set(pack, path);
    }
    return path;
  }

  private metaJob(node: TreeNode): FileMetaJob {
    return { mode: node.mode, mtime: nsToDate(node.mtimeNs), ...(this.isRoot ? { owner: { uid: node.uid, gid: node.gid } } : {}) };
  }

  /** Counts a job's bytes, or throws its error for the file's warning. */
  private written(result: { bytes: number; error?: string }): void {
    if (result.error !== undefined) throw new Error(result.error);
    this.result.bytes += result.bytes;
  }

  /*
   * Calls on the target tree are synchronous: it is a local directory, where a system call
   * costs a few microseconds and a thread-pool round trip several times that (tens of
   * thousands of them, for directories at the end, one after another).
   */
  private applyMeta(target: string, node: TreeNode): void {
    this.applyOwner(target, node, false);
    chmodSync(target, node.mode);
    const t = nsToDate(node.mtimeNs);
    utimesSync(target, t, t);
  }

  private applyOwner(target: string, node: TreeNode, link: boolean): void {
    // Only root may give files away; others restore as themselves, as tar and restic do.
    if (!this.isRoot) return;
    try {
      (link ? lchownSync : chownSync)(target, node.uid, node.gid);
    } catch {
      // an owner this system does not know: keep ours
    }
  }

  /**
   * A directory's own metadata, once everything in it is restored: writing into a directory
   * changes its mtime, so this comes after its files and its subdirectories (whose own
   * metadata came before). Done as each subtree completes, not all at the end, so that it
   * runs while the workers write other files instead of after them.
   */
  private finishDir(path: string, node: TreeNode, dir: PendingDir): void {
    // Nothing made (a dry run, or nothing in it restored), or a directory that was there
    // already, whose own metadata `never` leaves as it is.
    if (!dir.made || this.dryRun || (dir.existed && this.overwrite === 'never')) return;
    try {
      this.applyMeta(this.targetOf(path), node);
    } catch (e) {
      this.warn(path, e);
    }
  }

  private targetOf(snapshotPath: string): string {
    return join(this.options.target, snapshotPath);
  }

  private included(path: string): boolean {
    return this.includes.empty || this.includes.matches(path);
  }

  /** Could something below this directory match an include? Then it must be walked. */
  private leadsToInclude(path: string): boolean {
    return this.includes.mayMatchBelow(path);
  }

  private warn(path: string, e: unknown): void {
    const message = (e as Error).message;
    this.result.warnings.push({ path, message });
    this.options.onWarning?.(path, message);
  }
}

/**
 * A directory of the target, made when it is first needed, after its parent. A dry run only
 * checks that it could be made (nothing, or a real directory, at its path).
 */
class PendingDir {
  made = false;
  /** It was there before this restore. */
  existed = false;

  constructor(
    private readonly path: string,
    private readonly parent: PendingDir | undefined,
    private readonly dryRun: boolean,
    private readonly onMade: () => void,
  ) {}

  /** The target directory itself, made (or accepted) before the walk. */
  static made(path: string): PendingDir {
    const root = new PendingDir(path, undefined, true, () => undefined);
    root.made = true;
    return root;
  }

  ensure(): void {
    if (this.made) return;
    this.parent?.ensure();
    this.existed = this.dryRun ? realDirIsThere(this.path) : !makeRealDir(this.path);
    this.made = true;
    this.onMade();
  }
}

/**
 * Makes one directory beneath one already verified, or accepts a real directory already there
 * (then returns false). Never recursive and never through a symlink: a link at that name
 * (planted, or left by an earlier restore into the same target) would send everything below
 * it elsewhere.
 */
function makeRealDir(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (!lstatSync(path).isDirectory()) throw notADirectory(path);
    return false;
  }
}

/** What makeRealDir would find, without making anything: a directory there (true), nothing (false), or something else (an error). */
function realDirIsThere(path: string): boolean {
  const existing = lstatIfAny(path);
  if (existing && !existing.isDirectory()) throw notADirectory(path);
  return existing !== undefined;
}

function notADirectory(path: string): DriveseedError {
  return new DriveseedError('CONFLICT', `${path} exists and is not a directory: nothing restored below it`);
}

function lstatIfAny(path: string): BigIntStats | undefined {
  return lstatSync(path, { bigint: true, throwIfNoEntry: false });
}

/**
 * Seconds as a number keep microseconds, the most utimes can set from node. Half a
 * microsecond more, because libuv truncates to whole microseconds and a double near 1.7e9
 * is only good to ~0.24 µs: without it, half of all times on a millisecond boundary came
 * back one microsecond early, in the millisecond before.
 */
export function nsToDate(ns: string): number {
  return (Number(BigInt(ns) / 1000n) + 0.5) / 1e6;
}
