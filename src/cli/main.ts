import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { EXIT_FAILURE, EXIT_USAGE } from './exit-codes.js';

/** A command's module: its default export makes the command (kopia's one file per command and subcommand). */
interface CommandModule {
  default: () => Command;
}

/** The commands, in the order help lists them; each is made by `cmd-NAME.ts`. */
const COMMANDS = [
  'init',
  'backup',
  'snapshots',
  'ls',
  'diff',
  'find',
  'stats',
  'dump',
  'restore',
  'check',
  'forget',
  'unlock',
  'repair',
  'key',
  'service',
  'certgen',
  'agent',
  'diskprep',
  'datacenter',
  'alerts',
  'demo',
];

/** The commands made of subcommands, each made by `cmd-GROUP-NAME.ts`. */
const GROUPS: Record<string, { description: string; subcommands: string[] }> = {
  repair: {
    description: 'remove or rebuild damaged repository files (snapshots, index), after a --dry-run that says what it would do',
    subcommands: ['snapshots', 'index'],
  },
  service: {
    description: 'the cloud side: identity, vault and import service in one HTTP server',
    subcommands: ['start', 'publish-settings'],
  },
  certgen: {
    description: "identity for offline backup: applications with X.509 certificates (the seed's CertGen)",
    subcommands: ['create-app', 'add-registry', 'export-cert', 'upload-cert', 'set-thumbprint'],
  },
  agent: {
    description: 'the protected server: register with a vault, protect paths, back up, restore',
    subcommands: ['register', 'protect', 'policy', 'backup-now', 'status', 'recovery-points', 'estimate', 'restore', 'export', 'run'],
  },
  key: {
    description: "the repository's passwords: each is a key file wrapping the one master key",
    subcommands: ['list', 'add', 'remove', 'passwd'],
  },
  alerts: {
    description: 'alerts by e-mail and signed webhooks: failed, missed or stalled backups, drives, deadlines (docs/alerts.md)',
    subcommands: ['add', 'targets', 'remove', 'list'],
  },
  datacenter: {
    description: "the data centre's side of the import service: incoming jobs, receiving and importing drives, deadlines",
    subcommands: ['jobs', 'receive', 'export', 'ship-back', 'tick'],
  },
};

/**
 * Only the module of the command that runs is loaded, and of a group only the subcommand's:
 * loading all of them (the service's web server and database drivers, the agent's certificate
 * code, Azure's SDK) took 0.2 s of every invocation, the engine's commands alone 0.09 s: a
 * tenth of a second off every backup and restore. Help and unknown commands load them all.
 *
 * `words` are argv's arguments that are not options. Neither the root nor a group takes an
 * option with a value, so its first word names the command and, for a group, its second the
 * subcommand.
 */
async function loadCommands(words: string[]): Promise<Command[]> {
  const [name, ...rest] = words;
  return Promise.all(picked(COMMANDS, name).map((n) => (Object.hasOwn(GROUPS, n) ? loadGroup(n, n === name ? rest : []) : loadModule(`cmd-${n}`))));
}

async function loadGroup(name: string, words: string[]): Promise<Command> {
  const { description, subcommands } = GROUPS[name];
  const group = new Command(name).description(description);
  for (const subcommand of await Promise.all(picked(subcommands, words[0]).map((s) => loadModule(`cmd-${name}-${s}`)))) group.addCommand(subcommand);
  return group;
}

/** The one of `names` that `word` is, or all of them. */
function picked(names: string[], word: string | undefined): string[] {
  return word !== undefined && names.includes(word) ? [word] : names;
}

async function loadModule(module: string): Promise<Command> {
  return ((await import(`./${module}.js`)) as CommandModule).default();
}

/** The version npm installed: package.json's, so there is one place to bump it. */
function packageVersion(): string {
  // dist/src/cli/main.js → the package's root, three levels up (as bin/driveseed.js finds dist).
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function program(argv: string[]): Promise<Command> {
  const root = new Command('driveseed')
    .description('deduplicating, compressed, encrypted backups; the first full backup travels on disks')
    .version(`driveseed ${packageVersion()} (node ${process.versions.node})`, '-V, --version', 'print the version and exit')
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)');
  for (const cmd of await loadCommands(argv.slice(2).filter((arg) => !arg.startsWith('-')))) root.addCommand(cmd);
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
