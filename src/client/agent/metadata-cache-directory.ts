import { join } from 'node:path';
import type { Repository } from '../../core/repo/repository.js';
import { withRepositoryCache } from '../common/repository-cache.js';
import { agentHome } from './agent-config.js';

export { trimRepositoryCache as trimMetadataCache } from '../common/repository-cache.js';

/** The agent's metadata cache of one repository: a directory under the agent's home named by the repository's id. */
export function metadataCacheDirectory(repositoryId: string): string {
  return join(agentHome(), 'cache', repositoryId);
}

/** The repository read through the agent's local metadata cache (docs/cache.md). */
export function withMetadataCache(repo: Repository): Repository {
  return withRepositoryCache(repo, metadataCacheDirectory(repo.config.id));
}
