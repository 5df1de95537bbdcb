import { lstatSync } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import type { BigIntStats, Dirent } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { PathMatcher } from './path-match.js';
import { DriveseedError } from '../errors.js';
import type { Id } from '../repo/ids.js';
import type { FileProblem } from '../repo/index-loader.js';
import type { Repository } from '../repo/repository.js';
import { readableSnapshots } from '../repo/snapshot-reader.js';
import { byTime, SNAPSHOT_VERSION, type Snapshot, type SnapshotSummary, type StoredSnapshot } from '../repo/snapshot.js';
import { decodeTree, encodeTree, type Tree, type TreeNode } from '../repo/tree.js';
import { ChunkPool } from './chunk-pool.js';
import { changedWhileReadMessage } from './changed-while-read.js';
import type { FileResult } from './worker-protocol.js';
import { currentUsername } from '../util/current-user.js';
import { fileNode, metaOf, unchanged } from './file-meta.js';
import { Semaphore } from '../util/semaphore.js';
import { now } from '../util/clock.js';
import { DiscardingStore } from '../storage/discarding.js';

export interface BackupProgress {
  files: number;
  bytes: number;
  errors: number;
  /** The file read most recently started: what a progress line names as in work. */
  current?: string;
}

export interface BackupOptions {
  paths: string[];
  excludes?: string[];
  tags?: string[];
  /** Parent snapshot for change detection; undefined = the latest with the same host and paths. */
  parent?: StoredSnapshot | null;
  threads?: number;
  onProgress?: (p: BackupProgress) => void;
  /** Per-file problems (unreadable, vanished): reported, and the backup goes on. */
  onWarning?: (path: string, message: string) => void;
  /** A snapshot file that does not load, passed over when looking for the parent. */
  onDamagedFile?: (problem: FileProblem) => void;
  /** Nodes stored already, put into the snapshot's root beside the paths, and their snapshot paths (the agent's command items). */
  extraRoot?: ExtraRoot;
  /** Stay on the file systems of `paths`: a directory mounted below one is kept, empty (restic's --one-file-system). */
  oneFileSystem?: boolean;
  /** Leave out what is in a directory tagged as a cache (CACHEDIR.TAG, bford.info/cachedir), keeping the tag itself. */
  excludeCaches?: boolean;
  /** Each file read because it is new or changed, once it is cut (restic's `-vv` lines; what a dry run would store). */
  onFileRead?: (path: string, change: 'new' | 'changed', size: number) => void;
}

/** Nodes stored before the walk (command items): they count in the summary as new files, their bytes as read. */
export interface ExtraRoot {
  nodes: TreeNode[];
  paths: string[];
  files: number;
  bytes: number;
  /** Each command item's name and the bytes its command wrote, in policy order. */
  items?: { name: string; bytes: number }[];
}

export interface BackupResult {
  snapshotId: Id;
  snapshot: Snapshot;
  summary: SnapshotSummary;
  warnings: { path: string; message: string }[];
}

/** Files queued in the pool at once; beyond this the walk waits. */
const MAX_FILES_IN_FLIGHT = 512;
/** Files waiting for a pool slot before the walk stops listing new directories. */
const MAX_FILES_WAITING = 1024;
/** Entries of one directory started at once (tree order is kept: windows complete in turn). */
const ENTRIES_STARTED_AT_ONCE = 2048;
/** Directories read (and their parent trees loaded) at once. */
const DIRS_LISTED_AT_ONCE = 16;

/** A directory in the snapshot that leads to a backed-up path without being one itself. */
interface VirtualDir {
  children: Map<string, VirtualDir | 'target'>;
}

export async function backup(repo: Repository, options: BackupOptions): Promise<BackupResult> {
  await repo.indexUnindexedPacks();
  const walked = await walkAndStore(repo, options);
  const tree = await withExtraRoot(repo, walked.tree, options.extraRoot?.nodes);
  await repo.consolidateIndex();
  const snapshot: Snapshot = {
    version: SNAPSHOT_VERSION,
    time: now().toISOString(),
    tree,
    paths: [...walked.paths, ...(options.extraRoot?.paths ?? [])],
    hostname: hostname(),
    username: currentUsername(),
    tags: options.tags ?? [],
    excludes: options.excludes ?? [],
    ...(walked.parent ? { parent: walked.parent.id } : {}),
    summary: walked.summary,
  };
  const snapshotId = await repo.saveSnapshot(snapshot);
  return { snapshotId, snapshot, summary: walked.summary, warnings: walked.warnings };
}

/** What a dry run found: the summary the backup would have had, and the files it could not read. */
export interface DryRunResult {
  summary: SnapshotSummary;
  warnings: { path: string; message: string }[];
  /** The parent snapshot compared against, if any. */
  parent?: Id;
}

/**
 * `backup --dry-run` (restic's): the whole backup — walk, read, chunk, dedup against the
 * index, pack and seal — through a store that drops every write, so the summary says exactly
 * what a real run would add, and the repository stays byte for byte as it was: no pack, no
 * index file, no snapshot. The index is loaded here, into the discarding repository, so the
 * caller cannot hand over one whose writes go anywhere. Command items (agent) are not dry-run:
 * their stored nodes would have to be read back.
 */
export async function dryRunBackup(repo: Repository, options: Omit<BackupOptions, 'extraRoot'>): Promise<DryRunResult> {
  const dry = repo.wrappedIn(new DiscardingStore(repo.store));
  for (const problem of await dry.loadIndex()) options.onDamagedFile?.(problem);
  // Packs a killed run left unindexed are indexed in memory only: their blobs are not new.
  await dry.indexPacksFromHeaders(false);
  const walked = await walkAndStore(dry, options);
  return { summary: walked.summary, warnings: walked.warnings, ...(walked.parent ? { parent: walked.parent.id } : {}) };
}

/** The walk, every new blob stored and flushed: the root tree's id, and the summary of a snapshot of it. */
async function walkAndStore(
  repo: Repository,
  options: BackupOptions,
): Promise<{ tree: Id; paths: string[]; parent: StoredSnapshot | null; summary: SnapshotSummary; warnings: BackupResult['warnings'] }> {
  const started = Date.now();
  const paths = [...new Set(options.paths.map((p) => resolve(p)))].sort();
  for (const path of paths) await statOrExplain(path);
  const parent = options.parent === undefined ? await findParent(repo, options.paths, options.onDamagedFile) : options.parent;
  const bytesAddedBefore = repo.bytesAdded;

  const pool = new ChunkPool(repo, options.threads);
  const archiver = new Archiver(repo, pool, options);
  try {
    const tree = await archiver.saveVirtual(virtualRoot(paths), '/', parent?.tree);
    await pool.drain();
    await repo.flush();
    const extra = options.extraRoot;
    const counts = archiver.counts;
    const summary: SnapshotSummary = {
      ...counts,
      ...(extra
        ? {
            filesNew: counts.filesNew + extra.files,
            bytesRead: counts.bytesRead + extra.bytes,
            totalFiles: counts.totalFiles + extra.files,
            totalBytes: counts.totalBytes + extra.bytes,
          }
        : {}),
      bytesAdded: repo.bytesAdded - bytesAddedBefore,
      errors: archiver.warnings.length,
      durationMs: Date.now() - started,
    };
    return { tree, paths, parent, summary, warnings: archiver.warnings };
  } finally {
    await pool.close();
  }
}

/** The root tree with `extra` beside what the walk saved (after a flush: the root is read back); a name in both is refused, not merged. */
async function withExtraRoot(repo: Repository, root: Id, extra: TreeNode[] | undefined): Promise<Id> {
  if (!extra || extra.length === 0) return root;
  const tree = decodeTree(await repo.loadBlob('tree', root), `tree ${root}`);
  const clash = extra.find((n) => tree.nodes.some((m) => m.name === n.name));
  if (clash) throw new DriveseedError('CONFLICT', `/${clash.name} is both a backed-up path and where driveseed keeps command items`);
  const id = await repo.saveBlob('tree', encodeTree({ nodes: [...tree.nodes, ...extra] }));
  await repo.flush();
  return id;
}

const CACHE_TAG = 'CACHEDIR.TAG';
/** The spec's signature: a file by this name that does not start with it tags nothing. */
const CACHE_TAG_SIGNATURE = Buffer.from('Signature: 8a477f597d28d172789f06886806bc55');

async function isCacheDir(path: string, entries: Dirent[]): Promise<boolean> {
  if (!entries.some((e) => e.name === CACHE_TAG && e.isFile())) return false;
  try {
    const handle = await open(join(path, CACHE_TAG), 'r');
    try {
      const head = Buffer.alloc(CACHE_TAG_SIGNATURE.length);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return bytesRead === head.length && head.equals(CACHE_TAG_SIGNATURE);
    } finally {
      await handle.close();
    }
  } catch {
    return false; // an unreadable tag tags nothing: the directory is backed up (and its files warn as they are read)
  }
}

async function statOrExplain(path: string): Promise<void> {
  try {
    await lstat(path);
  } catch (e) {
    throw new DriveseedError('NOT_FOUND', `cannot back up ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The latest snapshot of this host with the same paths: the parent a backup of `paths` compares against. */
export async function findParent(
  repo: Repository,
  paths: string[],
  onDamagedFile: (problem: FileProblem) => void = () => undefined,
): Promise<StoredSnapshot | null> {
  const key = JSON.stringify([...new Set(paths.map((p) => resolve(p)))].sort());
  const host = hostname();
  // A damaged snapshot is never a parent: passed over, it costs at most a re-read of the files.
  const candidates = (await readableSnapshots(repo, onDamagedFile)).filter((s) => s.hostname === host && JSON.stringify([...s.paths].sort()) === key);
  return candidates.sort(byTime).at(-1) ?? null;
}

function virtualRoot(paths: string[]): VirtualDir {
  const root: VirtualDir = { children: new Map() };
  for (const path of paths) {
    const parts = path.split(sep).filter(Boolean);
    let dir = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        dir.children.set(part, 'target');
        return;
      }
      let next = dir.children.get(part);
      if (next === 'target') return; // a parent path is backed up whole already
      if (!next) dir.children.set(part, (next = { children: new Map() }));
      dir = next;
    });
    if (parts.length === 0) throw new DriveseedError('USAGE', 'backing up / as a whole is not supported yet; name its folders');
  }
  return root;
}

class Archiver {
  readonly warnings: { path: string; message: string }[] = [];
  private current: string | undefined;
  readonly counts = { filesNew: 0, filesChanged: 0, filesUnchanged: 0, dirs: 0, bytesRead: 0, totalFiles: 0, totalBytes: 0 };
  private readonly inFlight = new Semaphore(MAX_FILES_IN_FLIGHT);
  private readonly listing = new Semaphore(DIRS_LISTED_AT_ONCE);
  private readonly excludes: PathMatcher;
  /** With oneFileSystem: the devices of the paths given, the only ones walked into. */
  private readonly devices: Set<bigint> | undefined;

  constructor(
    private readonly repo: Repository,
    private readonly pool: ChunkPool,
    private readonly options: BackupOptions,
  ) {
    this.excludes = new PathMatcher(options.excludes ?? []);
    this.devices = options.oneFileSystem ? new Set(options.paths.map((p) => lstatSync(p, { bigint: true }).dev)) : undefined;
  }

  async saveVirtual(dir: VirtualDir, path: string, parentTree: Id | undefined): Promise<Id> {
    const previous = await this.loadParentNodes(parentTree);
    const nodes = await Promise.all(
      [...dir.children].map(async ([name, child]) => {
        const childPath = join(path, name);
        if (child === 'target') return this.saveEntry(childPath, name, previous.get(name));
        const st = await lstat(childPath, { bigint: true });
        const subtree = await this.saveVirtual(child, childPath, previous.get(name)?.subtree);
        return { ...metaOf(name, st), type: 'dir', subtree } satisfies TreeNode;
      }),
    );
    return this.saveTree(nodes);
  }

  /**
   * Directories are walked concurrently; a file waits for a free pool slot before it is even
   * stat'ed, so what waits is a name, not a stat result and a promise chain (a walk without
   * that held a 200 MB heap for 40k files). readdir's entry types tell files apart without a stat.
   */
  private async saveDir(path: string, parentTree: Id | undefined): Promise<Id> {
    const { previous, entries } = await this.listing.run(async () => {
      await this.filesMoved();
      return this.listDir(path, parentTree);
    });
    return this.saveListed(path, previous, entries);
  }

  /**
   * A directory by readdir's type. It is stat'ed only once it holds a listing slot: every
   * listed directory starts all its subdirectories at once, and thousands of them waiting must
   * hold a name each, not a stat (with its Dates and BigInts) and the promise chain around it.
   */
  private async saveSubdir(path: string, name: string, previous: TreeNode | undefined): Promise<TreeNode | undefined> {
    const listed = await this.listing.run(async () => {
      await this.filesMoved();
      const st = this.statEntry(path);
      if (!st) return 'gone' as const;
      if (!st.isDirectory()) return 'changed' as const;
      // Another file system mounted here: the mount point is kept, as an empty directory.
      if (this.devices && !this.devices.has(st.dev)) return { meta: metaOf(name, st), previous: new Map<string, TreeNode>(), entries: [] };
      return { meta: metaOf(name, st), ...(await this.listDir(path, previous?.type === 'dir' ? previous.subtree : undefined)) };
    });
    if (listed === 'gone') return undefined;
    if (listed === 'changed') return this.saveEntry(path, name, previous); // no longer a directory: stat again, save what it is
    this.counts.dirs++;
    const subtree = await this.saveListed(path, listed.previous, listed.entries);
    return { ...listed.meta, type: 'dir', subtree };
  }

  /** Listing more directories while thousands of files already wait only grows the heap. */
  private async filesMoved(): Promise<void> {
    await this.inFlight.queueAtMost(MAX_FILES_WAITING);
  }

  private async saveListed(path: string, previous: Map<string, TreeNode>, entries: Dirent[]): Promise<Id> {
    // path is absolute and normalized and a name has no separator: concatenation is the join
    // (path.join re-normalizes character by character; it was the walk's largest allocator).
    const prefix = path.endsWith(sep) ? path : path + sep;
    const nodes: (TreeNode | undefined)[] = [];
    // A window of entries at a time: a directory of a million entries started a promise and a
    // closure for each at once (a third of its 3 GB). The semaphore bounds files in flight
    // across directories; this bounds what one directory holds waiting for it.
    for (let start = 0; start < entries.length; start += ENTRIES_STARTED_AT_ONCE) {
      const window = entries.slice(start, start + ENTRIES_STARTED_AT_ONCE).map((entry) => this.saveListedEntry(prefix, entry, previous.get(entry.name)));
      for (const node of await Promise.all(window)) nodes.push(node);
    }
    return this.saveTree(nodes);
  }

  private saveListedEntry(prefix: string, entry: Dirent, before: TreeNode | undefined): Promise<TreeNode | undefined> {
    const childPath = prefix + entry.name;
    if (this.excluded(childPath)) return Promise.resolve(undefined);
    if (entry.isFile()) {
      // A file the parent snapshot does not have needs no lstat here: the worker fstat's what it opens.
      return this.inFlight.run(() => (before?.type === 'file' ? this.saveEntry(childPath, entry.name, before) : this.saveNewFile(childPath, entry.name)));
    }
    if (entry.isDirectory()) return this.saveSubdir(childPath, entry.name, before);
    return this.saveEntry(childPath, entry.name, before);
  }

  /** A directory's entries and its node in the parent snapshot: the walk's transient memory, so it is bounded. */
  private async listDir(path: string, parentTree: Id | undefined): Promise<{ previous: Map<string, TreeNode>; entries: Dirent[] }> {
    const previous = await this.loadParentNodes(parentTree);
    try {
      const entries = await readdir(path, { withFileTypes: true });
      return { previous, entries: this.options.excludeCaches && (await isCacheDir(path, entries)) ? entries.filter((e) => e.name === CACHE_TAG) : entries };
    } catch (e) {
      this.warn(path, e);
      return { previous, entries: [] };
    }
  }

  private async saveTree(nodes: (TreeNode | undefined)[]): Promise<Id> {
    const tree: Tree = { nodes: nodes.filter((n): n is TreeNode => n !== undefined) };
    return this.repo.saveBlob('tree', encodeTree(tree));
  }

  private async saveEntry(path: string, name: string, previous: TreeNode | undefined): Promise<TreeNode | undefined> {
    const st = this.statEntry(path);
    if (!st) return undefined;
    return st.isFile() ? this.saveFile(path, name, st, previous) : this.saveNonFile(path, name, st, previous);
  }

  /**
   * Synchronous on purpose: a cached inode took 4 µs here against 17 µs through the thread pool
   * and a promise (20,000 files' lstat, bigint), and lstat was the largest cost of an unchanged
   * backup (30% of its CPU profile). A cold inode blocks the walk while it is read, as in
   * restic, whose walk also stats one entry after another.
   */
  private statEntry(path: string): BigIntStats | undefined {
    try {
      return lstatSync(path, { bigint: true });
    } catch (e) {
      this.warn(path, e);
      return undefined;
    }
  }

  private async saveNonFile(path: string, name: string, st: BigIntStats, previous: TreeNode | undefined): Promise<TreeNode | undefined> {
    if (st.isDirectory()) {
      this.counts.dirs++;
      const subtree = await this.saveDir(path, previous?.type === 'dir' ? previous.subtree : undefined);
      return { ...metaOf(name, st), type: 'dir', subtree };
    }
    if (st.isSymbolicLink()) {
      try {
        return { ...metaOf(name, st), type: 'symlink', linkTarget: await readlink(path) };
      } catch (e) {
        this.warn(path, e);
        return undefined;
      }
    }
    // Sockets, fifos and devices carry no data to restore; they are left out on purpose.
    return undefined;
  }

  private async saveFile(path: string, name: string, st: BigIntStats, previous: TreeNode | undefined): Promise<TreeNode | undefined> {
    this.counts.totalFiles++;
    if (unchanged(previous, st) && previous!.content!.every((id) => this.repo.index.has(id))) {
      this.counts.filesUnchanged++;
      this.counts.totalBytes += previous!.size!;
      this.progress();
      return fileNode(name, st, previous!.size!, previous!.content!);
    }
    this.current = path;
    const result = await this.pool.chunk(path, Number(st.size));
    if (result.error !== undefined) {
      this.counts.totalFiles--;
      this.warn(path, new Error(result.error));
      return undefined;
    }
    if (previous) this.counts.filesChanged++;
    else this.counts.filesNew++;
    this.options.onFileRead?.(path, previous ? 'changed' : 'new', result.size);
    this.counts.bytesRead += result.size;
    this.counts.totalBytes += result.size;
    this.progress();
    return this.markChanged(path, fileNode(name, st, result.size, result.content), result);
  }

  /** A file that changed while read is kept as read, with a warning and the node's mark. */
  private markChanged(path: string, node: TreeNode, result: FileResult): TreeNode {
    if (result.changed === undefined) return node;
    this.warn(path, new Error(changedWhileReadMessage(result.changed)));
    node.changedWhileRead = true;
    return node;
  }

  /** A regular file (by readdir's type) with no node in the parent: read whole, metadata from the worker's fstat. */
  private async saveNewFile(path: string, name: string): Promise<TreeNode | undefined> {
    this.counts.totalFiles++;
    this.current = path;
    const result = await this.pool.chunk(path);
    if (result.error !== undefined || !result.stat) {
      this.counts.totalFiles--;
      this.warn(path, new Error(result.error ?? 'no metadata'));
      return undefined;
    }
    const st = result.stat;
    this.counts.filesNew++;
    this.options.onFileRead?.(path, 'new', result.size);
    this.counts.bytesRead += result.size;
    this.counts.totalBytes += result.size;
    this.progress();
    // The same key order as saveFile's nodes: equal directories must encode to equal trees.
    const node: TreeNode = {
      name,
      mode: st.mode,
      mtimeNs: st.mtimeNs,
      uid: st.uid,
      gid: st.gid,
      type: 'file',
      inode: st.inode,
      dev: st.dev,
      size: result.size,
      content: result.content,
    };
    return this.markChanged(path, node, result);
  }

  private async loadParentNodes(treeId: Id | undefined): Promise<Map<string, TreeNode>> {
    if (!treeId || !this.repo.index.has(treeId)) return new Map();
    try {
      const tree = decodeTree(await this.repo.loadBlob('tree', treeId), `tree ${treeId}`);
      return new Map(tree.nodes.map((n) => [n.name, n]));
    } catch {
      // A damaged parent only costs speed: everything below is read again.
      return new Map();
    }
  }

  private excluded(path: string): boolean {
    return this.excludes.matches(path);
  }

  private warn(path: string, e: unknown): void {
    const err = e as NodeJS.ErrnoException;
    const message = err.code ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, '')}` : err.message;
    this.warnings.push({ path, message });
    this.options.onWarning?.(path, message);
    this.progress();
  }

  private progress(): void {
    // Files done, not started: a file is counted once its bytes are.
    const c = this.counts;
    this.options.onProgress?.({
      files: c.filesNew + c.filesChanged + c.filesUnchanged,
      bytes: this.counts.totalBytes,
      errors: this.warnings.length,
      current: this.current,
    });
  }
}
