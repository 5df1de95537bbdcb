import { Command } from 'commander';
import { addKey } from '../core/repo/key-management.js';
import { addKeyOptions, openKeys, readNewPassword, type KeyFlags } from './key-repository.js';

export default function keyAddCommand(): Command {
  return addKeyOptions(new Command('add').description('add a password: a new key for the same repository'))
    .option('--new-password-file <file>', 'the new password (env DRIVESEED_NEW_PASSWORD)')
    .action(async (flags: KeyFlags) => {
      const password = readNewPassword(flags);
      const { store, master } = await openKeys(flags);
      console.log(`added key ${(await addKey(store, master, password)).slice(0, 8)}`);
    });
}
