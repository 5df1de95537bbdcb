import { Command, CommanderError } from 'commander';
import { DriveseedError } from '../errors.js';
import { backupCommand } from './cmd-backup.js';
import { checkCommand } from './cmd-check.js';
import { demoCommand } from './cmd-demo.js';
import { forgetCommand } from './cmd-forget.js';
import { initCommand } from './cmd-init.js';
import { lsCommand } from './cmd-ls.js';
import { restoreCommand } from './cmd-restore.js';
import { snapshotsCommand } from './cmd-snapshots.js';
import { unlockCommand } from './cmd-unlock.js';
import { serviceCommand } from './cmd-service.js';
import { certgenCommand } from './cmd-certgen.js';
import { agentCommand } from './cmd-agent.js';
import { datacenterCommand } from './cmd-datacenter.js';
import { diskprepCommand } from './cmd-diskprep.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function program(): Command {
  const root = new Command('driveseed')
    .description('deduplicating, compressed, encrypted backups; the first full backup travels on disks')
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)');
  for (const cmd of [initCommand(), backupCommand(), snapshotsCommand(), lsCommand(), restoreCommand(), checkCommand(), forgetCommand(), unlockCommand(), serviceCommand(), certgenCommand(), agentCommand(), diskprepCommand(), datacenterCommand(), demoCommand()]) {
    root.addCommand(cmd);
  }
  // Every subcommand reports usage errors through the same path, so they all exit 2.
  const exitOverride = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(exitOverride);
  };
  exitOverride(root);
  return root;
}

/**
 * A reader that stops early (`driveseed ls … | head`) closes the pipe: the command still
 * finishes its work and releases its lock, and output that nobody reads is dropped instead
 * of ending in a stack trace, as other Unix tools do.
 */
function ignoreClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

/** Runs the CLI and returns its exit code: 0 ok, 1 failure, 2 bad usage, 3 backup with unreadable files. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  ignoreClosedStdout();
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander; they already printed.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof DriveseedError) {
      process.stderr.write(`driveseed: ${e.message}${e.hint ? ` (${e.hint})` : ''}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      return e.code === 'USAGE' ? EXIT_USAGE : EXIT_FAILURE;
    }
    process.stderr.write(`driveseed: unexpected error: ${(e as Error).message ?? e}\n`);
    if (debug) process.stderr.write(`${(e as Error).stack}\n`);
    else process.stderr.write('(run with --debug for details)\n');
    return EXIT_FAILURE;
  }
}
