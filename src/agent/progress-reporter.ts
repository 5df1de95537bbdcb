import type { BackupProgress } from '../backup/archiver.js';
import type { JobProgress } from '../service/api/schemas.js';

/** About once a second: live enough for a person watching, negligible for the service. */
export const PROGRESS_INTERVAL_MS = 1000;

/**
 * Reports a running backup's progress to the service for the console, best effort: at most
 * one report in flight and one per interval, and a failed report is dropped, never the backup.
 */
export function progressReporter(send: (progress: JobProgress) => Promise<unknown>, intervalMs = PROGRESS_INTERVAL_MS): (p: BackupProgress) => void {
  let lastSent = 0;
  let inFlight = false;
  return (p) => {
    const now = Date.now();
    if (inFlight || now - lastSent < intervalMs) return;
    lastSent = now;
    inFlight = true;
    send({ files: p.files, bytes: p.bytes, errors: p.errors })
      .catch(() => undefined)
      .finally(() => (inFlight = false));
  };
}
