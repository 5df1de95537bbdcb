import { DriveseedError } from '../../core/errors.js';
import { loadAgentConfig } from './agent-config.js';
import { adviseDelta, lastBackupStart, type DeltaAdvice } from './delta-advice.js';
import { openVaultSession } from './vault-session.js';
import { estimateSeed, type EstimateOptions, type SeedEstimate } from './ship-or-upload.js';

/**
 * `agent estimate`: ship or upload the first backup of `paths`, or of the protected paths
 * (with their excludes) when none are named.
 */
export async function estimateFirstBackup(options: EstimateOptions): Promise<SeedEstimate> {
  const policy = options.paths.length === 0 ? (await loadAgentConfig()).policy : undefined;
  const paths = options.paths.length > 0 ? options.paths : (policy?.paths ?? []);
  if (paths.length === 0) throw new DriveseedError('USAGE', 'no paths to estimate', { hint: 'name them, or protect them first with `agent protect`' });
  return estimateSeed({ ...options, paths, excludes: options.excludes ?? policy?.excludes ?? [] });
}

/**
 * `agent estimate --pending`: the change the protected paths gained since the last backup,
 * over the link against on drives as an offline delta (delta-advice.ts says what is assumed).
 */
export async function estimatePendingChange(options: { bandwidth: number; shippingDays?: number; driveRate?: number }): Promise<DeltaAdvice> {
  const session = await openVaultSession();
  const policy = session.config.policy;
  if (!policy || policy.paths.length === 0) throw new DriveseedError('USAGE', 'nothing is protected yet', { hint: 'protect paths first with `agent protect`' });
  const since = lastBackupStart(await session.client.request('serverStatus', { params: session.server }));
  if (!since)
    throw new DriveseedError('USAGE', 'no backup yet: the first one is a seed, not a change', { hint: 'estimate it with `agent estimate --bandwidth SPEED`' });
  return adviseDelta({ policy, since, ...options });
}
