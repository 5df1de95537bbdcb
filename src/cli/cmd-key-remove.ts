import { Command } from 'commander';
import { removeKey } from '../core/repo/key-management.js';
import { addKeyOptions, openKeys, type KeyFlags } from './key-repository.js';

export default function keyRemoveCommand(): Command {
  return addKeyOptions(new Command('remove').description('remove a key (not the last one, nor the one in use)'))
    .argument('<id>', 'key id, or a unique prefix')
    .action(async (id: string, flags: KeyFlags) => {
      const { store, keyId } = await openKeys(flags);
      console.log(`removed key ${(await removeKey(store, id, keyId)).slice(0, 8)}`);
    });
}
