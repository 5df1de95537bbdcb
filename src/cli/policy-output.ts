import type { Policy } from '../client/agent/agent-config.js';
import { jobDirectory } from '../client/common/staging.js';
import type { KeepPolicy } from '../core/repo/forget-policy.js';
import { formatBytes } from './progress.js';

/** The whole protection policy, one line per part, as `agent protect` and `agent policy` print it. */
export function printPolicy(policy: Policy): void {
  console.log(`paths: ${policy.paths.join(', ')}`);
  if (policy.excludes.length > 0) console.log(`excludes: ${policy.excludes.join(', ')}`);
  if (policy.oneFileSystem) console.log('one file system: yes (other file systems mounted below the paths are left out)');
  if (policy.excludeCaches) console.log('exclude caches: yes (directories tagged with CACHEDIR.TAG are left out)');
  console.log(`schedule: ${policy.schedule ?? 'none (backups run only with `agent backup-now`)'}`);
  console.log(`upload limit: ${describeUploadLimit(policy.limitUpload)}`);
  for (const item of policy.items ?? []) console.log(`item ${item.name}: ${item.command}`);
  if (policy.preHook !== undefined) console.log(`pre hook: ${policy.preHook}`);
  if (policy.postHook !== undefined) console.log(`post hook: ${policy.postHook}`);
  console.log(`retention: ${policy.retention ? describeRetention(policy.retention) : 'none (the vault keeps every recovery point)'}`);
  const offline = policy.offline;
  if (!offline) {
    console.log('offline seeding: off (backups go over the network)');
    return;
  }
  const state = offline.seeded ? 'seed completed; backups are online incrementals' : `staging in ${jobDirectory(offline.staging, offline.jobName)}`;
  console.log(`offline seeding: import job ${offline.jobName} into ${offline.storageAccount}/${offline.container}, ${state}`);
  if (offline.healLimit !== undefined) console.log(`heal limit: ${formatBytes(offline.healLimit)}`);
}

function describeUploadLimit(limit: number | string | undefined): string {
  if (limit === undefined) return 'none';
  if (typeof limit === 'string') return `${limit} (by the local time; the first matching rule wins)`;
  return `${decimalRate(limit)} (${limit} bytes/s)`;
}

/** In the decimal units `--limit-upload` takes (2M is 2,000,000 bytes a second), so what was given reads back the same. */
function decimalRate(bytesPerSecond: number): string {
  const [unit, scale] = bytesPerSecond >= 1e9 ? ['G', 1e9] : bytesPerSecond >= 1e6 ? ['M', 1e6] : bytesPerSecond >= 1e3 ? ['K', 1e3] : ['', 1];
  return `${Number((bytesPerSecond / scale).toFixed(2))}${unit}/s`;
}

/** The rules as the flags that set them, in restic's order, so a reader can type them again. */
export function describeRetention(policy: KeepPolicy): string {
  const parts: string[] = [];
  for (const rule of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) if (policy[rule]) parts.push(`--keep-${rule} ${policy[rule]}`);
  if (policy.within) parts.push(`--keep-within ${policy.within}`);
  for (const tag of policy.tags ?? []) parts.push(`--keep-tag ${tag}`);
  return parts.join(' ');
}
