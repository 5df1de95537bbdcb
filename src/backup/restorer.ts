import { chmod, lchown, lutimes, mkdir, open, symlink, unlink, utimes, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { minimatch } from 'minimatch';
import type { Id } from '../repo/ids.js';
import type { Repository } from '../repo/repository.js';
import type { StoredSnapshot } from '../repo/snapshot.js';
import { decodeTree, type TreeNode } from '../repo/tree.js';
import { Semaphore } from './semaphore.js';
import { RestorePool } from './restore-pool.js';
import { DriveseedError } from '../errors.js';
import { packName } from '../repo/layout.js';

export interface RestoreProgress {
  files: number;
  bytes: number;
}

export interface RestoreOptions {
  target: string;
  /** Globs on the snapshot path (e.g. /srv/data/**); a matching directory brings all below it. */
  includes?: string[];
  onProgress?: (p: RestoreProgress) => void;
  onWarning?: (path: string, message: string) => void;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  warnings: { path: string; message: string }[];
}

/** Files written at once: enough to keep storage reads and decryption overlapping. */
const PARALLEL_FILES = 8;
/** Blobs of one file fetched and decoding at once (a large file keeps every worker busy). */
const BLOBS_IN_FLIGHT_PER_FILE = 4;

/**
 * Restores a snapshot under `target`, each path at its full original path (restic's rule).
 * Directory metadata is applied last, deepest first, because writing into a directory
 * changes its mtime.
 */
export async function restore(repo: Repository, snapshot: StoredSnapshot, options: RestoreOptions): Promise<RestoreResult> {
  const pool = new RestorePool(repo.key);
  try {
    const restorer = new Restorer(repo, pool, options);
    await restorer.restoreTree(snapshot.tree, '/', false);
    await restorer.finish();
    return restorer.result;
  } finally {
    await pool.close();
  }
}

class Restorer {
  readonly result: RestoreResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, warnings: [] };
  private readonly slots = new Semaphore(PARALLEL_FILES);
  private readonly dirMeta: { path: string; node: TreeNode }[] = [];
  private readonly isRoot = process.getuid?.() === 0;

  constructor(
    private readonly repo: Repository,
    private readonly pool: RestorePool,
    private readonly options: RestoreOptions,
  ) {}

  async restoreTree(treeId: Id, snapshotPath: string, wholeSubtree: boolean): Promise<void> {
    const tree = decodeTree(await this.repo.loadBlob('tree', treeId), `tree ${treeId}`);
    const work: Promise<void>[] = [];
    for (const node of tree.nodes) {
      const path = join(snapshotPath, node.name);
      const selected = wholeSubtree || this.included(path);
      if (node.type === 'dir') {
        if (!selected && !this.leadsToInclude(path)) continue;
        await mkdir(this.targetOf(path), { recursive: true });
        this.dirMeta.push({ path, node });
        work.push(this.restoreTree(node.subtree!, path, selected));
      } else if (selected) {
        work.push(this.slots.run(() => this.restoreLeaf(path, node)));
      }
    }
    await Promise.all(work);
  }

  private async restoreLeaf(path: string, node: TreeNode): Promise<void> {
    const target = this.targetOf(path);
    try {
      if (node.type === 'symlink') {
        await unlink(target).catch(() => undefined);
        await symlink(node.linkTarget!, target);
        await this.applyOwner(target, node, true);
        const t = nsToDate(node.mtimeNs);
        await lutimes(target, t, t).catch(() => undefined);
        this.result.symlinks++;
        return;
      }
      await this.writeFile(target, node);
      await this.applyMeta(target, node);
      this.result.files++;
      this.options.onProgress?.({ files: this.result.files, bytes: this.result.bytes });
    } catch (e) {
      this.warn(path, e);
    }
  }

  /**
   * Blobs are fetched and handed to the pool a few at a time; each lands at its own offset,
   * so they may finish in any order.
   */
  private async writeFile(target: string, node: TreeNode): Promise<void> {
    const handle = await open(target, 'w', 0o600);
    try {
      const inFlight = new Semaphore(BLOBS_IN_FLIGHT_PER_FILE);
      const writes: Promise<void>[] = [];
      // Failures are caught as they happen: a rejection must not wait unobserved for the loop to end.
      let failure: unknown;
      let offset = 0;
      for (const id of node.content!) {
        if (failure) break;
        const at = this.repo.index.lookup(id);
        if (!at) throw new DriveseedError('NOT_FOUND', `data blob ${id} is not in the index`);
        const blobOffset = offset;
        offset += at.rawLength;
        await inFlight.acquire();
        writes.push(
          this.repo.store
            .get(packName(at.pack), { offset: at.offset, length: at.length })
            .then((sealed) => this.pool.write(handle.fd, blobOffset, id, sealed))
            .then((bytes) => {
              this.result.bytes += bytes;
            })
            .catch((e) => {
              failure ??= e;
            })
            .finally(() => inFlight.release()),
        );
      }
      await Promise.all(writes);
      if (failure) throw failure;
    } finally {
      await handle.close();
    }
  }

  private async applyMeta(target: string, node: TreeNode): Promise<void> {
    await this.applyOwner(target, node, false);
    await chmod(target, node.mode);
    const t = nsToDate(node.mtimeNs);
    await utimes(target, t, t);
  }

  private async applyOwner(target: string, node: TreeNode, link: boolean): Promise<void> {
    // Only root may give files away; others restore as themselves, as tar and restic do.
    if (!this.isRoot) return;
    await (link ? lchown : chown)(target, node.uid, node.gid).catch(() => undefined);
  }

  async finish(): Promise<void> {
    for (const { path, node } of this.dirMeta.reverse()) {
      try {
        await this.applyMeta(this.targetOf(path), node);
      } catch (e) {
        this.warn(path, e);
      }
    }
    this.result.dirs = this.dirMeta.length;
  }

  private targetOf(snapshotPath: string): string {
    return join(this.options.target, snapshotPath);
  }

  private included(path: string): boolean {
    const includes = this.options.includes ?? [];
    return includes.length === 0 || includes.some((glob) => minimatch(path, glob, { dot: true }));
  }

  /** Could something below this directory match an include? Then it must be walked. */
  private leadsToInclude(path: string): boolean {
    const includes = this.options.includes ?? [];
    return includes.some((glob) => minimatch(path, glob, { dot: true, partial: true }));
  }

  private warn(path: string, e: unknown): void {
    const message = (e as Error).message;
    this.result.warnings.push({ path, message });
    this.options.onWarning?.(path, message);
  }
}

/** Seconds as a number keep microseconds, the most utimes can set from node. */
function nsToDate(ns: string): number {
  return Number(BigInt(ns) / 1000n) / 1e6;
}
