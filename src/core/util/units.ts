import { DriveseedError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * "10M", "512KiB", "1.5MB/s", "100000B/s" → bytes per second. Decimal units as on links
 * (Mbit/s ÷ 8 is the user's job). A bare number is refused: people mean Mbit/s or MB/s by
 * "20" far more often than 20 bytes a second, and a limit silently 10⁶ times too low looks
 * like a hung backup.
 */
export function parseRate(text: string): number {
  refuseBareNumber(text, 'rate', `write ${text.trim()}M for megabytes a second, or ${text.trim()}B/s if you mean bytes`);
  return parseByteCount(text, 'rate', /(?:\/s)?/, 'write it like 10M, 512KiB or 1.5MB/s (bytes per second)');
}

/** A link's speed as people give it ("10Mbit", "100 Mbit/s", "1Gbps"), or a byte rate as parseRate takes it: bytes per second. */
export function parseLinkSpeed(text: string): number {
  refuseBareNumber(text, 'link speed', `write ${text.trim()}Mbit for megabits a second, or ${text.trim()}MB/s for megabytes`);
  const bits = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:bit(?:\/s)?|bps)\s*$/i.exec(text);
  if (!bits) return parseRate(text);
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[bits[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  if (Number(bits[1]) <= 0) throw new DriveseedError('USAGE', `not a link speed: "${text}"`);
  return (Number(bits[1]) * scale) / 8;
}

/** "2T", "500GB", "64MiB" → bytes (a drive's capacity, say). */
export function parseSize(text: string): number {
  return parseByteCount(text, 'size', /(?:)/, 'write it like 64MiB, 500GB or 2TB');
}

function parseByteCount(text: string, what: string, suffix: RegExp, hint: string): number {
  const match = new RegExp(`^\\s*(\\d+(?:\\.\\d+)?)\\s*([a-z]*?)${suffix.source}\\s*$`, 'i').exec(text);
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined || Number(match[1]) <= 0) throw new DriveseedError('USAGE', `not a ${what}: "${text}"`, { hint });
  return Math.round(Number(match[1]) * unit);
}

/** A number without a unit, where the unit changes the meaning a millionfold. */
function refuseBareNumber(text: string, what: string, hint: string): void {
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(text) && Number(text) > 0) throw new DriveseedError('USAGE', `a ${what} needs a unit: "${text.trim()}"`, { hint });
}
