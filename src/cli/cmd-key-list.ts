import { Command } from 'commander';
import { listKeys } from '../core/repo/key-management.js';
import { printJson } from './common.js';
import { addKeyOptions, openKeys, type KeyFlags } from './key-repository.js';

export default function keyListCommand(): Command {
  return addKeyOptions(new Command('list').description("list the repository's keys (one per password)"))
    .option('--json', 'print them as JSON')
    .action(async (flags: KeyFlags) => {
      const { store, keyId } = await openKeys(flags);
      const keys = (await listKeys(store)).map((k) => ({ ...k, current: k.id === keyId }));
      if (flags.json) printJson(keys);
      else for (const k of keys) console.log(`${k.current ? '*' : ' '} ${k.id.slice(0, 8)}  ${k.created}  ${k.username}@${k.hostname}`);
    });
}
