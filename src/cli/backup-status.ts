import { formatBytes } from './progress.js';

/**
 * A backup's status as restic shows it: elapsed time, percentage of the total the scanner
 * found, files and bytes done of that total, errors, ETA and the file in work —
 *
 *   [0:02] 49.16%  605 files 369.5 MiB, total 2228 files 751.5 MiB, 0 errors  ETA 0:02  /srv/data/x
 *
 * redrawn in place on a terminal (5 times a second), as plain lines when stderr is not one
 * and DRIVESEED_PROGRESS_FPS asks for them (restic's RESTIC_PROGRESS_FPS), and as JSON lines
 * (restic's status messages) with --json. Without a terminal and without that variable it is
 * silent, as the command-line contract says. Everything goes to stderr: stdout keeps the
 * summary (with --json, the one document).
 */

export interface BackupStatus {
  files: number;
  bytes: number;
  errors: number;
  current?: string;
  /** What the scanner counted so far, and whether it is done (only then is it a total). */
  totalFiles: number;
  totalBytes: number;
  totalsFinal: boolean;
}

type Mode = 'tty' | 'lines' | 'json' | 'none';

/** Elapsed time before an ETA is shown: a rate from the first fraction of a second is noise (an ETA of 266 hours, once). */
const ETA_AFTER_SECONDS = 2;

export class BackupStatusReporter {
  private readonly mode: Mode;
  private readonly intervalMs: number;
  private readonly started = Date.now();
  private last = 0;
  private shown = false;

  constructor(
    json: boolean,
    private readonly out: NodeJS.WriteStream = process.stderr,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const fps = Number(env.DRIVESEED_PROGRESS_FPS);
    const asked = Number.isFinite(fps) && fps > 0;
    const tty = out.isTTY === true;
    this.mode = json ? (tty || asked ? 'json' : 'none') : tty ? 'tty' : asked ? 'lines' : 'none';
    this.intervalMs = asked ? 1000 / fps : tty && !json ? 200 : 1000;
  }

  /** Whether anything is shown at all: a silent reporter needs no scanner beside the backup. */
  get active(): boolean {
    return this.mode !== 'none';
  }

  update(status: BackupStatus): void {
    if (this.mode === 'none') return;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.write(status, (now - this.started) / 1000);
  }

  /** Blanks a live line before other output (a warning) goes to the terminal; it is drawn again on the next update. */
  clear(): void {
    if (this.mode === 'tty' && this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }

  /** The last status, left in place on a terminal (as restic leaves its last line) and ended with a newline. */
  finish(status: BackupStatus): void {
    if (this.mode === 'none') return;
    this.write(status, (Date.now() - this.started) / 1000);
    if (this.mode === 'tty') this.out.write('\n');
    this.shown = false;
  }

  private write(status: BackupStatus, elapsed: number): void {
    if (this.mode === 'json') {
      this.out.write(JSON.stringify(statusMessage(status, elapsed)) + '\n');
      return;
    }
    const line = renderBackupStatus(status, elapsed);
    if (this.mode === 'lines') {
      this.out.write(line + '\n');
      return;
    }
    const width = (this.out.columns || 100) - 1;
    this.out.write('\r' + (line.length > width ? line.slice(0, width) : line) + '\x1b[K');
    this.shown = true;
  }
}

export function renderBackupStatus(s: BackupStatus, elapsed: number): string {
  const parts = [`[${clock(elapsed)}]`];
  const total = s.totalsFinal ? Math.max(s.totalBytes, s.bytes) : undefined;
  if (total !== undefined) parts.push(`${percent(s.bytes, total).toFixed(2)}%`);
  const done = `${s.files} files ${formatBytes(s.bytes)}`;
  const totals = s.totalsFinal
    ? `, total ${Math.max(s.totalFiles, s.files)} files ${formatBytes(total!)}`
    : s.totalFiles > 0
      ? `, counted ${s.totalFiles} files ${formatBytes(s.totalBytes)} so far`
      : '';
  parts.push(`${done}${totals}, ${s.errors} errors`);
  const eta = etaSeconds(s, elapsed);
  if (eta !== undefined) parts.push(`ETA ${clock(eta)}`);
  if (s.current) parts.push(s.current);
  return parts.join('  ');
}

function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, (done / total) * 100) : 100;
}

function etaSeconds(s: BackupStatus, elapsed: number): number | undefined {
  if (!s.totalsFinal || elapsed < ETA_AFTER_SECONDS || s.bytes === 0) return undefined;
  return Math.max(0, (Math.max(s.totalBytes, s.bytes) - s.bytes) / (s.bytes / elapsed));
}

/** restic's clock: m:ss, or h:mm:ss. */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** restic's `status` message, field for field where it has one. */
function statusMessage(s: BackupStatus, elapsed: number): Record<string, unknown> {
  const eta = etaSeconds(s, elapsed);
  return {
    message_type: 'status',
    seconds_elapsed: Math.round(elapsed),
    ...(eta !== undefined ? { seconds_remaining: Math.round(eta) } : {}),
    ...(s.totalsFinal ? { percent_done: percent(s.bytes, Math.max(s.totalBytes, s.bytes)) / 100 } : {}),
    total_files: s.totalFiles,
    files_done: s.files,
    total_bytes: s.totalBytes,
    bytes_done: s.bytes,
    error_count: s.errors,
    ...(s.current ? { current_files: [s.current] } : {}),
  };
}

/** What a backup's walk reports (BackupProgress), fed to a reporter with the scanner's totals beside it. */
export interface LiveBackupStatus {
  onProgress(p: { files: number; bytes: number; errors: number; current?: string }): void;
  clear(): void;
  /** The final line: the backup's own counts are the totals now. */
  finish(final: { files: number; bytes: number; errors: number }): void;
}

export function liveBackupStatus(
  reporter: BackupStatusReporter,
  scan: (onUpdate: (t: { files: number; bytes: number; done: boolean }) => void) => Promise<unknown>,
): LiveBackupStatus {
  const status: BackupStatus = { files: 0, bytes: 0, errors: 0, totalFiles: 0, totalBytes: 0, totalsFinal: false };
  // The scan never fails the backup (it skips what it cannot read); it only feeds the totals, so nobody watching, no scan.
  if (reporter.active)
    void scan((t) => {
      status.totalFiles = t.files;
      status.totalBytes = t.bytes;
      status.totalsFinal = t.done;
    }).catch(() => undefined);
  return {
    onProgress: (p) => {
      Object.assign(status, { files: p.files, bytes: p.bytes, errors: p.errors, current: p.current });
      reporter.update(status);
    },
    clear: () => reporter.clear(),
    finish: (f) => reporter.finish({ ...f, totalFiles: f.files, totalBytes: f.bytes, totalsFinal: true }),
  };
}
