import { DriveseedError } from '../../core/errors.js';
import { loadAgentConfig } from './agent-config.js';
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
