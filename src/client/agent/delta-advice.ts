import { resolve } from 'node:path';
import type { ServerStatus } from '../../api/schemas.js';
import { MAX_DRIVE_BYTES } from '../../core/envelope/drive-writer.js';
import type { Policy } from './agent-config.js';
import { listTree } from './ship-or-upload.js';

/**
 * "Ship or upload?" for a later change: the bytes the protected paths gained since the last
 * backup, over the link against on drives as an offline delta. Stated assumptions, printed
 * with the advice: the change is counted raw (every byte of every file modified since the
 * last backup began, before compression and deduplication, so it errs towards more bytes);
 * drives are written and imported at DRIVE_RATE each way; door to door takes
 * DEFAULT_DELTA_SHIPPING_DAYS unless told otherwise.
 */
export const DEFAULT_DELTA_SHIPPING_DAYS = 3;
const DRIVE_RATE = 150e6;
const DAY = 86_400;

export interface DeltaAdvice {
  /** When the last backup began: files modified after it are the pending change. */
  since: string;
  files: number;
  bytes: number;
  /** The link's upload speed used, bytes per second. */
  bandwidth: number;
  shippingDays: number;
  upload: { seconds: number };
  ship: { seconds: number; drives: number };
  advice: 'offline-delta' | 'upload';
}

export async function adviseDelta(options: {
  policy: Policy;
  since: Date;
  bandwidth: number;
  shippingDays?: number;
  driveRate?: number;
}): Promise<DeltaAdvice> {
  const since = options.since.getTime();
  const files = (
    await listTree(
      options.policy.paths.map((p) => resolve(p)),
      options.policy.excludes,
    )
  ).filter((f) => f.mtimeMs > since);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const shippingDays = options.shippingDays ?? DEFAULT_DELTA_SHIPPING_DAYS;
  const ship = { seconds: (2 * bytes) / (options.driveRate ?? DRIVE_RATE) + shippingDays * DAY, drives: Math.max(1, Math.ceil(bytes / MAX_DRIVE_BYTES)) };
  const upload = { seconds: bytes / options.bandwidth };
  return {
    since: options.since.toISOString(),
    files: files.length,
    bytes,
    bandwidth: options.bandwidth,
    shippingDays,
    upload,
    ship,
    advice: ship.seconds < upload.seconds ? 'offline-delta' : 'upload',
  };
}

/** When the last backup the vault knows of began (its newest job that made or waits for a point); undefined before the first. */
export function lastBackupStart(status: ServerStatus): Date | undefined {
  const starts = status.jobs
    .filter((j) => j.kind !== 'seed' && ['Completed', 'CompletedWithWarnings', 'Waiting'].includes(j.state))
    .map((j) => Date.parse(j.startedAt));
  return starts.length > 0 ? new Date(Math.max(...starts)) : undefined;
}
