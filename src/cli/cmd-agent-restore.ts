import { Command } from 'commander';
import { openVaultRepository, type ServerChoice } from '../client/agent/restore.js';
import { warnDamagedFile } from './common.js';
import { restoreItem } from '../client/agent/restore-item.js';
import { DriveseedError } from '../core/errors.js';
import { agentPassword } from './agent-password.js';
import { formatBytes } from './progress.js';
import { addRestoreOptions, restoreWithProgress, skippedNote, type RestoreFlags } from './restore-progress.js';
import { addServerOptions, serverChoiceOf } from './server-options.js';
import { counted } from './counted.js';
import { resolve } from 'node:path';
import { DEFAULT_HEAL_LIMIT, readExportDrives, removeWorkDir } from '../client/agent/restore-from-drives.js';
import { parseRate, parseSize } from '../core/util/units.js';
import { printJson } from './common.js';

type AgentRestoreFlags = RestoreFlags &
  ServerChoice & {
    passwordFile?: string;
    item?: string;
    toCommand?: string;
    fromDrive?: string[];
    healLimit?: string;
    job?: string;
    workDir?: string;
    json?: boolean;
    limitDownload?: number;
  };

export default function agentRestoreCommand(): Command {
  return addServerOptions(
    addRestoreOptions(new Command('restore'), { targetRequired: false })
      .description('restore a recovery point from the vault, whole or by path, on this machine or a new one')
      .argument('[recovery-point]', 'recovery point id (or a unique prefix), or "latest"', 'latest')
      .option('--item <name>', 'restore one command item (agent protect --item) instead of the paths')
      .option('--to-command <cmd>', "with --item: feed the item's output to CMD's stdin (run through the shell), e.g. 'psql sales_restored'")
      .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
      .option('--from-drive <path...>', "restore from an export job's drives (restore by drive); what they lack or carry damaged comes over the network")
      .option('--heal-limit <size>', `with --from-drive: the most to fetch over the network, e.g. 500MB (default ${formatBytes(DEFAULT_HEAL_LIMIT)})`)
      .option('--job <name>', "with --from-drive: the export job (default: the one the drives' headers name)")
      .option(
        '--work-dir <dir>',
        "with --from-drive: where the drives' verified files are gathered before the restore (default under the agent's home; needs room for the export)",
      )
      .option('--json', 'print the outcome as JSON')
      .option('--limit-download <rate>', 'download bandwidth limit, e.g. 5M (bytes per second), metered as the bytes arrive', parseRate),
  ).action(async (ref: string, flags: AgentRestoreFlags) => {
    if (flags.fromDrive) return restoreFromDrives(ref, flags);
    if (flags.toCommand !== undefined && flags.item === undefined) throw new DriveseedError('USAGE', '--to-command goes with --item');
    if (flags.item !== undefined && (flags.target === undefined) === (flags.toCommand === undefined))
      throw new DriveseedError('USAGE', '--item needs --target DIR or --to-command CMD (one of them)');
    if (flags.target === undefined && flags.item === undefined) throw new DriveseedError('USAGE', 'give --target DIR to restore into');
    const repo = await openVaultRepository(await agentPassword(flags), serverChoiceOf(flags), { limitDownload: flags.limitDownload });
    if (flags.item !== undefined) {
      const sink = flags.toCommand !== undefined ? { toCommand: flags.toCommand } : { target: flags.target! };
      const { snapshot, bytes } = await restoreItem(repo, ref, flags.item, sink, warnDamagedFile);
      console.log(`restored item ${flags.item} (${formatBytes(bytes)}) from recovery point ${snapshot.id.slice(0, 8)}`);
      return;
    }
    const { snapshot, result } = await restoreWithProgress(repo, ref, flags, false);
    console.log(
      `${flags.dryRun ? 'would restore' : 'restored'} ${counted(result.files, 'file')} (${formatBytes(result.bytes)}) from recovery point ${snapshot.id.slice(0, 8)}`,
    );
    const note = skippedNote(result.skipped, flags.overwrite, flags.dryRun === true);
    if (note) console.log(note);
    if (result.warnings.length > 0) process.exitCode = 1;
  });
}

/** `agent restore RP --from-drive PATH...`: from the drives, healing from the vault what they lack, and saying how much that was. */
async function restoreFromDrives(ref: string, flags: AgentRestoreFlags): Promise<void> {
  if (flags.target === undefined) throw new DriveseedError('USAGE', '--from-drive needs --target DIR');
  if (flags.item !== undefined || flags.server !== undefined || flags.publishSettings !== undefined)
    throw new DriveseedError('USAGE', "--from-drive restores this agent's server's export job: --item, --server and --publish-settings do not go with it");
  const read = await readExportDrives({
    ref,
    drives: flags.fromDrive!.map((p) => resolve(p)),
    password: await agentPassword(flags),
    jobName: flags.job,
    healLimit: flags.healLimit !== undefined ? parseSize(flags.healLimit) : DEFAULT_HEAL_LIMIT,
    workDir: flags.workDir,
    target: flags.target,
    onProblem: (p) => process.stderr.write(`warning: ${p.drive}: ${p.message}\n`),
  });
  const { snapshot, result } = await restoreWithProgress(read.repo, read.job.snapshotId, flags, false);
  if (!flags.dryRun && result.warnings.length === 0) await removeWorkDir(read);
  if (result.warnings.length > 0) process.exitCode = 1;
  if (flags.json)
    return printJson({
      job: read.job.name,
      snapshotId: snapshot.id,
      files: result.files,
      bytes: result.bytes,
      skipped: result.skipped,
      fromDrives: { files: read.filesFromDrives, bytes: read.bytesFromDrives },
      overNetwork: { files: read.healedFiles.length, bytes: read.healedBytes, names: read.healedFiles },
      problems: read.problems,
      traffic: read.traffic,
    });
  console.log(
    `${flags.dryRun ? 'would restore' : 'restored'} ${counted(result.files, 'file')} (${formatBytes(result.bytes)}) from recovery point ${snapshot.id.slice(0, 8)} on the drives of export job ${read.job.name}`,
  );
  console.log(
    `${counted(read.filesFromDrives, 'file')} (${formatBytes(read.bytesFromDrives)}) came from the drives, ${counted(read.healedFiles.length, 'file')} (${formatBytes(read.healedBytes)}) over the network`,
  );
  const note = skippedNote(result.skipped, flags.overwrite, flags.dryRun === true);
  if (note) console.log(note);
}
