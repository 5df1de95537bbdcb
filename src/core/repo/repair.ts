import { isDriveseedError } from '../errors.js';
import type { BlobInfo, BlobStore } from '../storage/blob-store.js';
import { ForwardingStore } from '../storage/forwarding.js';
import type { FileProblem } from './index-loader.js';
import type { Repository } from './repository.js';

/*
 * `repair snapshots` and `repair index` (restic has both): what is damaged is removed or
 * rebuilt, never what only could not be read this time. Only a file that is CORRUPT (its
 * bytes do not match its name, do not decrypt, or do not decode) counts as damaged; a
 * storage error or a version this reader does not know is reported and left alone. The
 * caller holds the exclusive lock, so no writer adds files meanwhile.
 */

export interface SnapshotRepair {
  /** Snapshots that load. */
  intact: number;
  /** Removed (or, in a dry run, to be removed): a snapshot file is its own only record, so it cannot be rebuilt. */
  damaged: FileProblem[];
  /** Not loaded, but not damaged either (storage, version): left alone. */
  unread: FileProblem[];
  dryRun: boolean;
}

export interface IndexRepair {
  /** Damaged index files, removed (or to be removed) once the packs they described are indexed again. */
  damaged: FileProblem[];
  unread: FileProblem[];
  /** Packs no intact index file names, indexed from their own headers into a new index file. */
  packsIndexed: number;
  dryRun: boolean;
}

export async function repairSnapshots(repo: Repository, options: { dryRun: boolean }): Promise<SnapshotRepair> {
  const problems: Problem[] = [];
  const intact = await repo.listSnapshots((file, e) => problems.push({ file, message: (e as Error).message, damaged: isDriveseedError(e, 'CORRUPT') }));
  const { damaged, unread } = sorted(problems);
  if (!options.dryRun) for (const p of damaged) await repo.store.delete(p.file);
  return { intact: intact.length, damaged, unread, dryRun: options.dryRun };
}

/**
 * Rebuilds the index past damaged files: the intact files are read as they are, every pack
 * none of them names (those of the damaged files, and any a killed writer left) is indexed
 * from its own header into one new index file, and only then are the damaged files removed,
 * so a repair killed half-way loses nothing.
 */
export async function repairIndex(repo: Repository, options: { dryRun: boolean }): Promise<IndexRepair> {
  const problems: Problem[] = [];
  for (const p of await (await repo.through(repo.store)).loadIndex()) problems.push({ ...p, damaged: await isDamagedIndexFile(repo.store, p) });
  const { damaged, unread } = sorted(problems);
  const withoutDamaged = await repo.through(new HidingStore(repo.store, new Set(damaged.map((p) => p.file))));
  await withoutDamaged.loadIndex();
  let packsIndexed: number;
  if (options.dryRun) {
    packsIndexed = [...(await withoutDamaged.listPacks()).keys()].filter((id) => !withoutDamaged.index.hasPack(id)).length;
  } else {
    packsIndexed = await withoutDamaged.indexPacksFromHeaders(true);
    for (const p of damaged) await repo.store.delete(p.file);
  }
  return { damaged, unread, packsIndexed, dryRun: options.dryRun };
}

interface Problem extends FileProblem {
  damaged?: boolean;
}

/**
 * The loader keeps only a problem's message. A file whose bytes can be read and were refused
 * is damaged, unless it was refused for a version this reader does not know (a newer
 * writer's); one that cannot be read at all is left for another time.
 */
async function isDamagedIndexFile(store: BlobStore, problem: FileProblem): Promise<boolean> {
  if (/ is not supported$/.test(problem.message)) return false;
  return store.get(problem.file).then(
    () => true,
    () => false,
  );
}

function sorted(problems: Problem[]): { damaged: FileProblem[]; unread: FileProblem[] } {
  const plain = (p: Problem): FileProblem => ({ file: p.file, message: p.message });
  const byFile = (a: FileProblem, b: FileProblem) => (a.file < b.file ? -1 : 1);
  return {
    damaged: problems
      .filter((p) => p.damaged)
      .map(plain)
      .sort(byFile),
    unread: problems
      .filter((p) => !p.damaged)
      .map(plain)
      .sort(byFile),
  };
}

/** The repository as if some files were not there: the index is loaded without the damaged ones. */
class HidingStore extends ForwardingStore {
  constructor(
    inner: BlobStore,
    private readonly hidden: ReadonlySet<string>,
  ) {
    super(inner);
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    for await (const info of this.inner.list(prefix)) if (!this.hidden.has(info.name)) yield info;
  }
}
