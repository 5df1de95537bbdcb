// Puts the machine in the same state before every timed command, so that the tools are
// measured and not the VM: written-back data, and no free memory the next command could take.
//
// Why the free memory: this VM's kernel reports freed pages to the host at once
// (/sys/module/page_reporting: page_reporting_order 9, min_free_ms 0), and the host backs a
// reported page again only when it is next touched. Writing into such a page cost 4–9 µs here
// (a 2 GB first touch: 2.2–4.7 s, then 0.01 s), against well under a microsecond for a page the
// kernel takes back from the page cache. A restore writes 2 GB into the page cache: the same
// driveseed restore took 7.8–8.8 s of system time with 16 GB free and 2.3–2.8 s with none
// free (restic alike: 7.3 vs 2.7–3.6 s), so whoever ran while memory was free lost.
// Reading never-read parts of a sparse file fills the free memory with clean page cache (holes
// cost no disk), which the kernel reclaims cheaply, as on any machine that has run a while.
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const CHUNK = 16 * 1024 * 1024;
/** Free memory left alone: the kernel keeps some free in any case. */
const LEAVE_FREE = 256 * 1024 * 1024;

function memFreeBytes() {
  const line = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('MemFree:'));
  return Number(/(\d+)/.exec(line)[1]) * 1024;
}

export class Settler {
  constructor(dir) {
    this.path = join(dir, '.page-cache-fill');
    this.fd = openSync(this.path, 'w+');
    ftruncateSync(this.fd, 2 ** 40); // a sparse terabyte: only what is read takes memory, nothing takes disk
    this.cursor = 0;
    this.buffer = Buffer.allocUnsafe(CHUNK);
  }

  /** Written-back data and no free memory; returns the bytes of page cache it added. */
  settle() {
    execFileSync('sync');
    const want = memFreeBytes() - LEAVE_FREE;
    let read = 0;
    while (read < want) read += readSync(this.fd, this.buffer, 0, CHUNK, this.cursor + read);
    this.cursor += Math.max(0, read);
    return Math.max(0, read);
  }

  close() {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}
