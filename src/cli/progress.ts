/**
 * One status line on stderr, redrawn at most 5 times a second, only on a TTY: scripts and
 * logs get nothing but the final output.
 */
export class ProgressLine {
  private last = 0;
  private readonly started = Date.now();
  private readonly enabled: boolean;
  private shown = false;

  constructor(enabled = process.stderr.isTTY === true) {
    this.enabled = enabled;
  }

  update(render: (elapsedSeconds: number) => string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const line = render((now - this.started) / 1000);
    const width = process.stderr.columns || 100;
    process.stderr.write('\r' + line.slice(0, width - 1).padEnd(width - 1));
    this.shown = true;
  }

  done(): void {
    this.clear();
  }

  /** Blanks the line, so that what is printed next starts on a clean line; the next update draws it again. */
  clear(): void {
    if (this.enabled && this.shown) process.stderr.write('\r' + ' '.repeat((process.stderr.columns || 100) - 1) + '\r');
    this.shown = false;
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number) => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** "files, bytes, rate, ETA" — ETA only when the total is known. */
export function renderTransfer(elapsed: number, files: number, bytes: number, totalBytes?: number): string {
  const rate = elapsed > 0 ? bytes / elapsed : 0;
  const parts = [`${files} files`, formatBytes(bytes), `${formatBytes(rate)}/s`];
  if (totalBytes && totalBytes > 0) {
    const pct = Math.min(100, (bytes / totalBytes) * 100);
    parts.unshift(`${pct.toFixed(1)}%`);
    // A rate from the first seconds is noise (a restore's first ETA once read 266:07:32): none until then.
    parts.push(`ETA ${formatDuration(rate > 0 && elapsed >= 2 ? (totalBytes - bytes) / rate : Infinity)}`);
  }
  return parts.join('  ');
}
