import { DATA_DIR, idFromName, INDEX_DIR } from './layout.js';
import type { IndexFileInfo, MasterIndex } from './master-index.js';
import type { RepositoryFiles } from './repository-files.js';

/*
 * Consolidation keeps a repository at a few index files however many backups it has had
 * (docs/format.md, "Index files"). Files are grouped in size tiers, each FILES_PER_TIER times
 * the one below; a tier that holds FILES_PER_TIER files is merged, with every smaller one, into
 * one file of the tier above. So a blob's record is rewritten once a tier climbed — a handful
 * of times in a repository's life — and a large seed index is not sent over the link again
 * for every few incrementals, while the file count stays under FILES_PER_TIER a tier.
 */

export const FILES_PER_TIER = 8;
/** Every file up to this size is in the lowest tier: an incremental's index file is smaller. */
const LOWEST_TIER_BYTES = 64 * 1024;

export interface ConsolidationReport {
  written: number;
  deleted: number;
}

function tierOf(size: number): number {
  return size <= LOWEST_TIER_BYTES ? 0 : Math.floor(Math.log(size / LOWEST_TIER_BYTES) / Math.log(FILES_PER_TIER)) + 1;
}

/** The groups of files to merge, each into one: none while no tier is full. */
export function planConsolidation<F extends { size: number }>(files: readonly F[]): F[][] {
  let groups = files.map((f) => ({ members: [f], size: f.size }));
  for (;;) {
    const perTier = new Map<number, number>();
    for (const g of groups) perTier.set(tierOf(g.size), (perTier.get(tierOf(g.size)) ?? 0) + 1);
    const full = [...perTier].filter(([, count]) => count >= FILES_PER_TIER).map(([tier]) => tier);
    if (full.length === 0) break;
    const upTo = Math.min(...full);
    const merged = groups.filter((g) => tierOf(g.size) <= upTo);
    groups = [...groups.filter((g) => tierOf(g.size) > upTo), { members: merged.flatMap((g) => g.members), size: merged.reduce((n, g) => n + g.size, 0) }];
  }
  return groups.filter((g) => g.members.length > 1).map((g) => g.members);
}

/**
 * Merges index files this process loaded or wrote, as planConsolidation says. Safe against a
 * kill and a concurrent reader: the merged file is written before the files it replaces are
 * deleted, and readers take a pack named twice as one. A file that names a pack the store
 * does not hold is left alone: in a vault, a seed's index names packs still on their way on
 * drives, and a seed withdrawn takes those files back by name (seed-completion.ts).
 */
export async function consolidateIndex(files: RepositoryFiles, index: MasterIndex): Promise<ConsolidationReport> {
  // What the index knows decides whether there is anything to do: most backups find no tier
  // full and so make no request (a listing is a round trip over the link, each backup).
  if (planConsolidation(index.files).length === 0) return { written: 0, deleted: 0 };
  const candidates = await storedFiles(files, index);
  if (planConsolidation(candidates).length === 0) return { written: 0, deleted: 0 };
  const unheld = await filesNamingUnheldPacks(files, index);
  const report = { written: 0, deleted: 0 };
  for (const group of planConsolidation(candidates.filter((f) => !unheld.has(f.source)))) {
    const sources = new Set(group.map((f) => f.source));
    const { id, size } = await files.writeSealedPayload('index', INDEX_DIR, index.encodeFiles(sources));
    index.moveSources(sources, index.addFile({ name: INDEX_DIR + id, size }));
    report.written++;
    // Deletes are idempotent: another consolidating writer may have deleted some first.
    for (const file of group) await files.store.delete(file.name);
    report.deleted += group.length;
  }
  return report;
}

/** The index files the index knows that the store still holds, with their numbers. */
async function storedFiles(files: RepositoryFiles, index: MasterIndex): Promise<(IndexFileInfo & { source: number })[]> {
  const stored = new Set<string>();
  for await (const info of files.store.list(INDEX_DIR)) stored.add(info.name);
  return index.files.map((f, source) => ({ ...f, source })).filter((f) => stored.has(f.name));
}

async function filesNamingUnheldPacks(files: RepositoryFiles, index: MasterIndex): Promise<Set<number>> {
  const marks = index.packMarks();
  for await (const info of files.store.list(DATA_DIR)) marks.mark(idFromName(info.name));
  return marks.filesNamingUnmarked();
}
