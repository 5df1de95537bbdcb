import type { BackupProgress } from '../../core/backup/archiver.js';
import type { JobProgress } from '../../api/schemas.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { CountingStore } from '../../core/storage/counting.js';

/** About once a second: live enough for a person watching, negligible for the service. */
export const PROGRESS_INTERVAL_MS = 1000;

export interface LiveProgress {
  /** The repository's store, counting what is sent through it. */
  store: BlobStore;
  /** The archiver's progress callback. */
  update(p: BackupProgress): void;
  stop(): void;
}

/**
 * Reports a running backup's progress to the service for the console, best effort: on a
 * timer (reading ends long before a throttled upload does, so the archiver's callbacks stop
 * early), only when something changed, one report in flight at most, and a failed report is
 * dropped, never the backup.
 */
export function liveProgress(store: BlobStore, send: (progress: JobProgress) => Promise<unknown>, intervalMs = PROGRESS_INTERVAL_MS): LiveProgress {
  const counting = new CountingStore(store);
  let latest: BackupProgress = { files: 0, bytes: 0, errors: 0 };
  let lastSent = '';
  let inFlight = false;
  const report = () => {
    const progress: JobProgress = { files: latest.files, bytes: latest.bytes, errors: latest.errors, sent: counting.bytesPut };
    const key = JSON.stringify(progress);
    if (inFlight || key === lastSent) return;
    inFlight = true;
    send(progress)
      .then(() => (lastSent = key))
      .catch(() => undefined)
      .finally(() => (inFlight = false));
  };
  const timer = setInterval(report, intervalMs);
  timer.unref();
  return {
    store: counting,
    update: (p) => (latest = p),
    stop: () => clearInterval(timer),
  };
}
