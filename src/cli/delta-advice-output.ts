import type { DeltaAdvice } from '../client/agent/delta-advice.js';
import { formatBytes } from './progress.js';

/** How long a span of seconds is, as people say it. */
export function duration(seconds: number): string {
  return seconds < 3600
    ? `${Math.max(1, Math.round(seconds / 60))} minutes`
    : seconds < 86_400
      ? `${(seconds / 3600).toFixed(1)} hours`
      : `${(seconds / 86_400).toFixed(1)} days`;
}

/** The pending change, its two ways, the assumptions behind them, and the advice. */
export function printDeltaAdvice(a: DeltaAdvice, link: string): void {
  console.log(`pending change since the last backup (${a.since}): ${a.files} files, ${formatBytes(a.bytes)}`);
  console.log(`  over the network at ${link} (${formatBytes(a.bandwidth)}/s): ${duration(a.upload.seconds)}`);
  console.log(
    `  on ${a.ship.drives} drive${a.ship.drives > 1 ? 's' : ''} as an offline delta: ${duration(a.ship.seconds)}, assuming ${a.shippingDays} days door to door and the change stored uncompressed`,
  );
  console.log(
    a.advice === 'offline-delta'
      ? '  advice: ship it: agent backup-now --offline-delta --job NAME --staging DIR, then diskprep'
      : '  advice: upload it with the next backup (agent backup-now)',
  );
}
