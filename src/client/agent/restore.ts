import { Repository } from '../../core/repo/repository.js';
import { openVaultSession } from './vault-session.js';
import { withMetadataCache } from './metadata-cache-directory.js';

/** The repository in this server's vault, for `agent restore` to read recovery points from. */
export async function openVaultRepository(password: string): Promise<Repository> {
  return withMetadataCache(await Repository.open((await openVaultSession()).store, password));
}
