import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { exportDrives } from '../service/datacenter/export-drives.js';
import { parseSize } from '../core/util/units.js';
import { printJson } from './common.js';
import { counted } from './counted.js';
import { formatBytes, ProgressLine, renderTransfer } from './progress.js';
import { addServiceOptions, withServiceData, type ServiceFlags } from './service-data.js';

interface ExportFlags extends ServiceFlags {
  job: string;
  drive: string[];
  subscription?: string;
  capacity?: string;
  stateDir?: string;
  json?: boolean;
}

export default function datacenterExportCommand(): Command {
  return addServiceOptions(
    new Command('export').description(
      "write an export job's recovery point (ciphertext from the vault) onto the customer's blank drives, read them back, record them",
    ),
  )
    .requiredOption('--job <name>', 'export job name')
    .requiredOption('--drive <path...>', 'blank drives: mounted directories or image files (NAME.img)')
    .option('--subscription <id>', 'when several subscriptions have a job of that name')
    .option('--capacity <size>', "usable bytes per drive, e.g. 500GB (default: free space of its file system, or a pre-sized blank image's size)")
    .option('--state-dir <dir>', "where the drives' journals and keys wait until each drive is recorded (default DATA_DIR/export-state, mode 0700)")
    .option('--json', 'print the outcome as JSON')
    .action(async (flags: ExportFlags) => {
      const dataDir = resolve(flags.dataDir ?? process.env.DRIVESEED_DATA_DIR ?? './driveseed-data');
      const progress = new ProgressLine();
      const result = await withServiceData(flags, (db, blobs) =>
        exportDrives(
          db,
          blobs,
          flags.job,
          flags.drive.map((p) => resolve(p)),
          resolve(flags.stateDir ?? join(dataDir, 'export-state')),
          () => new Date(),
          {
            subscriptionId: flags.subscription,
            capacity: flags.capacity ? parseSize(flags.capacity) : undefined,
            onProgress: flags.json ? undefined : (p) => progress.update((t) => renderTransfer(t, p.filesDone, p.bytesDone, p.bytesTotal)),
          },
        ),
      );
      progress.done();
      if (flags.json) return printJson(result);
      for (const d of result.drives)
        console.log(`drive ${d.driveId} (${d.path}): ${counted(d.files, 'file')} (${formatBytes(d.bytes)}), read back and verified`);
      if (result.remainingFiles > 0) {
        console.log(`${counted(result.remainingFiles, 'file')} (${formatBytes(result.remainingBytes)}) did not fit: run again with another blank drive`);
        process.exitCode = 1;
      } else
        console.log(
          `export job ${result.job.name} is ${result.job.state}: ship the drives back with \`driveseed datacenter ship-back --job ${result.job.name}\``,
        );
    });
}
