import { DriveseedError } from '../errors.js';

/*
 * The few parts of the POSIX ustar format a drive image needs: a 512-byte header per entry,
 * data padded to 512 bytes, two zero blocks at the end. Written by hand because the tar
 * libraries on npm are streams, and an image needs what a stream cannot give: payload files
 * written in parallel at offsets fixed in advance, a resume that overwrites from the last
 * journaled entry, and ranged reads of one entry without reading the ones before it.
 */

export const TAR_BLOCK = 512;
/** The largest size ustar's 11 octal digits can say; repository files are far smaller. */
const MAX_ENTRY_SIZE = 8 ** 11 - 1;

export interface TarEntry {
  name: string;
  /** Where the entry's data begins in the archive. */
  offset: number;
  size: number;
}

export function paddedSize(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

/** Header plus padded data: the room an entry of `size` bytes takes in the archive. */
export function entryFootprint(size: number): number {
  return TAR_BLOCK + paddedSize(size);
}

export function encodeHeader(name: string, size: number, mtime: Date): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  if (size > MAX_ENTRY_SIZE) throw new DriveseedError('USAGE', `${name} is too large for a drive image (${size} bytes; ustar holds up to 8 GiB a file)`);
  const header = Buffer.alloc(TAR_BLOCK);
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, Math.floor(mtime.getTime() / 1000));
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  // The checksum is summed with its own field read as spaces.
  header.fill(0x20, 148, 156);
  writeOctal(header, 148, 7, checksum(header));
  header[155] = 0x20;
  return header;
}

/** 'end' at a zero block (the end of the archive, or a blank image), undefined if not a ustar header. */
export function decodeHeader(block: Buffer): { name: string; size: number } | 'end' | undefined {
  if (block.length < TAR_BLOCK) return undefined;
  if (block.subarray(0, TAR_BLOCK).every((b) => b === 0)) return 'end';
  if (block.toString('ascii', 257, 262) !== 'ustar') return undefined;
  const stored = readOctal(block, 148, 8);
  const copy = Buffer.from(block.subarray(0, TAR_BLOCK));
  copy.fill(0x20, 148, 156);
  if (stored !== checksum(copy)) return undefined;
  const type = block[156];
  if (type !== 0x30 && type !== 0) return undefined;
  const size = readOctal(block, 124, 12);
  // A size field that is not octal digits parsed as NaN (or, with a sign, negative), which the
  // image reader then seeks by (found by ustar.fuzz.test.ts): such a block is no header of ours.
  if (!Number.isSafeInteger(size) || size < 0) return undefined;
  const name = cString(block, 0, 100);
  const prefix = cString(block, 345, 155);
  return { name: prefix ? `${prefix}/${name}` : name, size };
}

function checksum(header: Buffer): number {
  let sum = 0;
  for (const byte of header) sum += byte;
  return sum;
}

function writeOctal(buffer: Buffer, at: number, width: number, value: number): void {
  buffer.write(value.toString(8).padStart(width - 1, '0') + '\0', at, width, 'ascii');
}

function readOctal(buffer: Buffer, at: number, width: number): number {
  const text = cString(buffer, at, width).trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : Number.NaN;
}

function cString(buffer: Buffer, at: number, width: number): string {
  const field = buffer.subarray(at, at + width);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end === -1 ? width : end);
}
