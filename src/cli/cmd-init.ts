import { Command } from 'commander';
import { Repository } from '../core/repo/repository.js';
import { openStore } from '../core/storage/open-store.js';
import { addRepoOptions, printJson, readPassword, repoLocation, type RepoFlags } from './common.js';

export default function initCommand(): Command {
  return addRepoOptions(new Command('init').description('create a new repository'))
    .option('--json', 'print the result as JSON')
    .action(async (flags: RepoFlags & { json?: boolean }) => {
      const location = repoLocation(flags);
      const repo = await Repository.init(await openStore(location), readPassword(flags));
      if (flags.json) printJson({ id: repo.config.id, location, version: repo.config.version });
      else console.log(`created repository ${repo.config.id.slice(0, 8)} at ${location}`);
    });
}
