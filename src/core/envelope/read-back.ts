import { closeSync, constants, openSync, readSync } from 'node:fs';

/*
 * diskprep's read-back of what it wrote, past the page cache where Linux allows it.
 *
 * A plain read right after writing is served from the page cache: it proves the file system
 * holds the bytes, not that the drive does. Node has no posix_fadvise(DONTNEED) and no way to
 * drop one file's cached pages, so the read-back opens the drive's files with O_DIRECT: the
 * kernel writes back any dirty pages of the range and then reads from the device itself. So
 * a verified block came back from the drive (or from the drive's own write cache, which no
 * program can bypass); it does not prove the medium will still hold it after shipping, which
 * is why the import checks every block again.
 *
 * O_DIRECT wants the file offset, the length and the memory aligned to the device's logical
 * block size. Offsets and lengths are widened here to 4 KiB boundaries (the largest logical
 * block size in use) and the wanted bytes copied out. JavaScript cannot ask where a Buffer
 * lives, so the memory alignment is found by trying: the first offset into an over-allocated
 * buffer that a read does not refuse with EINVAL is aligned. Where O_DIRECT is refused
 * (tmpfs, some FUSE and network file systems, or no aligned offset found) the read-back
 * falls back to ordinary reads and says so: `fromDevice` is false, and such a check proves
 * only what the file system holds.
 */

const ALIGNMENT = 4096;
/**
 * Offsets tried into the buffer: malloc's allocations are 16-byte aligned (8 on some
 * systems), so one of the 512 steps across a page meets the device's alignment. Done once
 * a thread, it costs up to 512 reads of 4 KiB.
 */
const PROBE_STEP = 8;
/** Bytes read from the device at once: a sealed 4 MiB block and its widening either side. */
const SPAN = 4 * 1024 * 1024 + 64 * 1024;

export interface ReadBack {
  readonly fd: number;
  /** True when reads go to the device (O_DIRECT), false when through the page cache. */
  readonly fromDevice: boolean;
  /** Reads up to `length` bytes at `position` into `target` from 0; returns how many (fewer at the end of the file). */
  read(target: Buffer, length: number, position: number): number;
}

/** The aligned buffer of this thread, found once: a Buffer's memory never moves. */
let aligned: Buffer | undefined;
let noAlignedOffset = false;

export function openReadBack(path: string, flags: number): ReadBack {
  const direct = constants.O_DIRECT;
  if (direct !== undefined && !noAlignedOffset) {
    let fd: number | undefined;
    try {
      fd = openSync(path, flags | direct);
    } catch (e) {
      // EINVAL: this file system takes no O_DIRECT. Anything else (missing, a link) the caller hears from the plain open.
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
    if (fd !== undefined) {
      const buffer = aligned ?? alignedBuffer(fd);
      if (buffer) return directReader(fd, buffer);
      closeSync(fd);
    }
  }
  return cachedReader(openSync(path, flags));
}

function alignedBuffer(fd: number): Buffer | undefined {
  const base = Buffer.allocUnsafeSlow(SPAN + ALIGNMENT);
  for (let offset = 0; offset < ALIGNMENT; offset += PROBE_STEP) {
    try {
      readSync(fd, base, offset, ALIGNMENT, 0);
      aligned = base.subarray(offset, offset + SPAN);
      return aligned;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  }
  noAlignedOffset = true;
  return undefined;
}

function directReader(fd: number, buffer: Buffer): ReadBack {
  return {
    fd,
    fromDevice: true,
    read(target, length, position) {
      let got = 0;
      while (got < length) {
        const at = position + got;
        const start = at - (at % ALIGNMENT);
        const skip = at - start;
        const span = Math.min(SPAN, roundUp(skip + length - got));
        const n = readSync(fd, buffer, 0, span, start);
        if (n <= skip) break;
        const useful = Math.min(n - skip, length - got);
        buffer.copy(target, got, skip, skip + useful);
        got += useful;
        if (n < span) break;
      }
      return got;
    },
  };
}

/** Reads through the page cache, as any read: the import's, and the read-back's fallback. */
export function cachedReader(fd: number): ReadBack {
  return {
    fd,
    fromDevice: false,
    read(target, length, position) {
      let got = 0;
      while (got < length) {
        const n = readSync(fd, target, got, length - got, position + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    },
  };
}

function roundUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}
