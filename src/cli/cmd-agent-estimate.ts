import { Command } from 'commander';
import { estimateFirstBackup } from '../client/agent/estimate.js';
import type { SeedEstimate } from '../client/agent/ship-or-upload.js';
import { DriveseedError } from '../core/errors.js';
import { parseLinkSpeed, parseRate, parseSize } from '../core/util/units.js';
import { printJson } from './common.js';
import { excludeOption } from './options.js';
import { formatBytes } from './progress.js';
import { duration, printDeltaAdvice } from './delta-advice-output.js';
import { estimatePendingChange } from '../client/agent/estimate.js';

export default function agentEstimateCommand(): Command {
  return new Command('estimate')
    .description("ship or upload? the first backup's size from a sample of the data, and its time over the link against on drives")
    .argument('[path...]', 'what would be protected (default: the protected paths)')
    .requiredOption('--bandwidth <speed>', "the link's upload speed, e.g. 20Mbit, 1Gbit or 2.5MB/s")
    .addOption(excludeOption())
    .option('--pending', 'the change since the last backup instead of a first backup: upload it, or ship it as an offline delta?')
    .option('--shipping-days <days>', 'door to door: courier, receipt and import at the data centre (default: 7 for a first backup, 3 for --pending)')
    .option('--drive-rate <rate>', 'how fast a drive is written and read', '150MB/s')
    .option('--sample <size>', 'how much of the data to read for the sample', '512MiB')
    .option('--json', 'print as JSON')
    .action(
      async (
        paths: string[],
        flags: { bandwidth: string; exclude?: string[]; shippingDays?: string; driveRate: string; sample: string; pending?: boolean; json?: boolean },
      ) => {
        if (flags.pending) {
          if (paths.length > 0 || flags.exclude) throw new DriveseedError('USAGE', '--pending estimates the protected paths: name no paths or excludes');
          const advice = await estimatePendingChange({
            bandwidth: parseLinkSpeed(flags.bandwidth),
            shippingDays: flags.shippingDays === undefined ? undefined : days(flags.shippingDays),
            driveRate: parseRate(flags.driveRate),
          });
          if (flags.json) return printJson(advice);
          return printDeltaAdvice(advice, flags.bandwidth);
        }
        const estimate = await estimateFirstBackup({
          paths,
          excludes: flags.exclude,
          bandwidth: parseLinkSpeed(flags.bandwidth),
          shippingDays: days(flags.shippingDays ?? '7'),
          driveRate: parseRate(flags.driveRate),
          sampleBytes: parseSize(flags.sample),
        });
        if (flags.json) return printJson(estimate);
        printEstimate(estimate, flags.bandwidth);
      },
    );
}

/** Days may be fractional (half a day by courier), never negative. */
function days(value: string): number {
  const n = Number(value);
  if (!(n >= 0)) throw new DriveseedError('USAGE', `--shipping-days must be a number of days, not "${value}"`);
  return n;
}

function printEstimate(e: SeedEstimate, bandwidth: string): void {
  console.log(`data: ${e.files} files, ${formatBytes(e.bytes)}`);
  console.log(`sample: ${formatBytes(e.sample.bytes)} from ${e.sample.files} places, stored as ${(e.ratio * 100).toFixed(0)}% (compressed and deduplicated)`);
  console.log(`first backup: about ${formatBytes(e.firstBackupBytes)}`);
  console.log(`  over the network at ${bandwidth}: ${duration(e.upload.seconds)}`);
  console.log(`  on ${e.ship.drives} drive${e.ship.drives > 1 ? 's' : ''}: ${duration(e.ship.seconds)}`);
  console.log(
    e.advice === 'ship'
      ? 'advice: ship the first backup on drives (agent protect … --offline --staging DIR --job NAME --storage-account A --container C)'
      : 'advice: upload it; drives would not be faster (agent protect …, then agent backup-now)',
  );
}
