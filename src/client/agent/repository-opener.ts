import { isDriveseedError } from '../../core/errors.js';
import { Repository } from '../../core/repo/repository.js';
import type { BlobStore } from '../../core/storage/blob-store.js';

/**
 * The repository of one agent run, opened through whichever store each step needs: the vault
 * counting what a job sends, the staging directory, the vault read over staging. Only the
 * first open turns the password into the key; the steps after it reuse that key, so a run
 * that completes the seed and then backs up pays for scrypt once, not once per step.
 */
export class RepositoryOpener {
  private opened?: Repository;

  constructor(private readonly password: string) {}

  /** The repository through `store`; WRONG_PASSWORD on the first open, CONFLICT if `store` holds another one. */
  async open(store: BlobStore): Promise<Repository> {
    this.opened = this.opened ? await this.opened.through(store) : await Repository.open(store, this.password);
    return this.opened;
  }

  /** As `open`, but a store without a repository gets a new one: the first backup makes it. */
  async openOrInit(store: BlobStore): Promise<Repository> {
    try {
      return await this.open(store);
    } catch (e) {
      // Asking is the open itself: an exists() first would cost every backup a round trip.
      if (this.opened || !isDriveseedError(e, 'NOT_A_REPOSITORY')) throw e;
    }
    this.opened = await Repository.init(store, this.password);
    return this.opened;
  }
}
