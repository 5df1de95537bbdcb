import { Command } from 'commander';
import { changePassword } from '../core/repo/key-management.js';
import { addKeyOptions, openKeys, readNewPassword, type KeyFlags } from './key-repository.js';

export default function keyPasswdCommand(): Command {
  return addKeyOptions(new Command('passwd').description('change the password: its key is replaced by one for the new password'))
    .option('--new-password-file <file>', 'the new password (env DRIVESEED_NEW_PASSWORD)')
    .action(async (flags: KeyFlags) => {
      const password = readNewPassword(flags);
      const { store, master, keyId } = await openKeys(flags);
      const id = await changePassword(store, master, keyId, password);
      console.log(`changed the password: key ${keyId.slice(0, 8)} replaced by ${id.slice(0, 8)}`);
      if (flags.agent) console.log('scheduled backups read the password from DRIVESEED_PASSWORD or the password file: update it too');
    });
}
