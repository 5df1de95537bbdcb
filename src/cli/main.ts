import { Command, CommanderError } from 'commander';
import { DriveseedError } from '../core/errors.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Each command's module is loaded only when that command runs: loading all of them (the
 * service's web server and database drivers, the agent's certificate code, Azure's SDK) took
 * 0.2 s of every invocation, the engine's commands alone 0.09 s: a tenth of a second off every
 * backup and restore. Help and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./cmd-init.js')).initCommand(),
  backup: async () => (await import('./cmd-backup.js')).backupCommand(),
  snapshots: async () => (await import('./cmd-snapshots.js')).snapshotsCommand(),
  ls: async () => (await import('./cmd-ls.js')).lsCommand(),
  restore: async () => (await import('./cmd-restore.js')).restoreCommand(),
  check: async () => (await import('./cmd-check.js')).checkCommand(),
  forget: async () => (await import('./cmd-forget.js')).forgetCommand(),
  unlock: async () => (await import('./cmd-unlock.js')).unlockCommand(),
  service: async () => (await import('./cmd-service.js')).serviceCommand(),
  certgen: async () => (await import('./cmd-certgen.js')).certgenCommand(),
  agent: async () => (await import('./cmd-agent.js')).agentCommand(),
  diskprep: async () => (await import('./cmd-diskprep.js')).diskprepCommand(),
  datacenter: async () => (await import('./cmd-datacenter.js')).datacenterCommand(),
  demo: async () => (await import('./cmd-demo.js')).demoCommand(),
};

/** The command named by argv (the root's only option, --debug, takes no value). */
function commandNamed(argv: string[]): string | undefined {
  const name = argv.slice(2).find((arg) => !arg.startsWith('-'));
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? name : undefined;
}

async function program(argv: string[]): Promise<Command> {
  const root = new Command('driveseed')
    .description('deduplicating, compressed, encrypted backups; the first full backup travels on disks')
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)');
  const name = commandNamed(argv);
  const load = name === undefined ? Object.values(COMMANDS) : [COMMANDS[name]];
  for (const cmd of await Promise.all(load.map((make) => make()))) root.addCommand(cmd);
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
    await (await program(argv)).parseAsync(argv);
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
