import { join } from 'node:path';
import { MetadataCacheStore } from '../../core/repo/metadata-cache.js';
import type { Repository } from '../../core/repo/repository.js';
import { agentHome } from './agent-config.js';

/**
 * What the cache may hold. Index and snapshot files take about 0.04 % of the data they
 * describe (an index entry of some 200 bytes per 512 KiB chunk), so this bound is reached
 * only by a repository of some 2.5 TB; DRIVESEED_CACHE_MAX_BYTES changes it.
 */
function cacheMaxBytes(): number {
  const value = Number(process.env.DRIVESEED_CACHE_MAX_BYTES ?? 1 << 30);
  return Number.isFinite(value) && value >= 0 ? value : 1 << 30;
}

/** The agent's metadata cache of one repository: a directory under the agent's home named by the repository's id. */
export function metadataCacheDirectory(repositoryId: string): string {
  return join(agentHome(), 'cache', repositoryId);
}

/**
 * The repository read through the agent's local metadata cache, so a backup or restore over
 * the network downloads only the index and snapshot files it has not seen before.
 */
export function withMetadataCache(repo: Repository): Repository {
  const directory = metadataCacheDirectory(repo.config.id);
  const cached = repo.wrappedIn(new MetadataCacheStore(repo.store, { directory, maxBytes: cacheMaxBytes() }));
  // The journal of packs not yet indexed lives beside the cache: a killed backup's packs are
  // found through it, not by listing every pack of the vault.
  cached.journalPacksIn(join(directory, 'unindexed'));
  return cached;
}
