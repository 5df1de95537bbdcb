import { MetadataCacheStore, metadataCacheOf } from '../../core/repo/metadata-cache.js';
import type { Repository } from '../../core/repo/repository.js';
import { join } from 'node:path';

/** The least the cache may keep: a small repository's index, snapshots and trees whole. */
export const MIN_CACHE_BYTES = 64 * 1024 * 1024;
/** The cache keeps at most this share of the data it describes (issue 14's bound: 1 %). */
const CACHE_SHARE_OF_DATA = 0.01;

/**
 * A fixed bound, applied as files are kept: DRIVESEED_CACHE_MAX_BYTES, for a machine whose
 * disk is small. Without it the cache grows during a run and is trimmed at its end.
 */
function fixedBound(): number | undefined {
  const value = Number(process.env.DRIVESEED_CACHE_MAX_BYTES);
  return process.env.DRIVESEED_CACHE_MAX_BYTES !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * What the cache may hold after a backup of `protectedBytes`: 1 % of it, and never less than
 * MIN_CACHE_BYTES. Index and snapshot files take about 0.04 % of the data they describe and
 * tree packs up to a few tenths of a percent for small files, so the cache holds a vault's
 * metadata whole at any size; a fixed bound (1 GiB, say) would not at 10 TB, whose index alone
 * is about 1 GB, and every backup would download what it had just evicted.
 */
export function cacheBoundFor(protectedBytes: number): number {
  return fixedBound() ?? Math.max(MIN_CACHE_BYTES, Math.ceil(protectedBytes * CACHE_SHARE_OF_DATA));
}

/**
 * The repository read through a local metadata cache in `directory` (docs/cache.md), so a
 * backup or restore over the network downloads only the index, snapshot and tree files it has
 * not seen before, with the journal of packs not yet indexed beside it: a killed backup's
 * packs are found through that, not by listing every pack.
 */
export function withRepositoryCache(repo: Repository, directory: string): Repository {
  const cached = repo.wrappedIn(new MetadataCacheStore(repo.store, { directory, maxBytes: fixedBound() ?? Infinity }));
  cached.journalPacksIn(join(directory, 'unindexed'));
  return cached;
}

/** Trims the cache a repository reads through to its bound for `protectedBytes` (after a backup, when that is known). */
export async function trimRepositoryCache(repo: Repository, protectedBytes: number): Promise<void> {
  await metadataCacheOf(repo.store)?.trimTo(cacheBoundFor(protectedBytes));
}
