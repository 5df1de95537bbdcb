import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isId, type Id } from './ids.js';

/** A pack stored but not yet named by an index file in the repository. */
export interface JournaledPack {
  id: Id;
  size: number;
}

const TEMP_PREFIX = '.tmp-';

/**
 * A local record of the packs a writer has stored that no index file names yet, so the next
 * run finds a killed run's packs without listing every pack in the repository (over a link,
 * a listing of 600,000 packs is 120 requests and tens of megabytes, every backup). Each run
 * keeps one file in the journal's directory, rewritten whole (temp file, rename) whenever its
 * unindexed packs change; a run that finishes leaves it empty and removes it.
 *
 * The journal is only a hint: the packs it names are read from the repository and their
 * headers decrypted and checked before anything is indexed, so a damaged or stale journal
 * costs a few reads, never a wrong index. A missing journal (a new machine, a deleted cache)
 * costs only the packs a killed run had not indexed yet: they are stored again, and prune
 * removes the unreferenced copies.
 *
 * Format (docs/cache.md): UTF-8 text, one pack per line, `<64 hex id> <size in bytes>`.
 */
export class PackJournal {
  private readonly file: string;

  constructor(private readonly directory: string) {
    this.file = join(directory, `run-${randomBytes(8).toString('hex')}`);
  }

  /** Packs every earlier run's file names (a killed run's, or one still running: indexing its packs twice is harmless). */
  async recorded(): Promise<JournaledPack[]> {
    const packs = new Map<Id, number>();
    for (const name of await this.earlierFiles()) {
      const text = await readFile(join(this.directory, name), 'utf8').catch(() => '');
      for (const pack of parseJournal(text)) packs.set(pack.id, pack.size);
    }
    return [...packs].map(([id, size]) => ({ id, size }));
  }

  /** Forgets the earlier runs' files once an index file names what they recorded. */
  async clearRecorded(): Promise<void> {
    for (const name of await this.earlierFiles()) await unlink(join(this.directory, name)).catch(() => undefined);
  }

  /**
   * Records this run's unindexed packs, replacing what it recorded before. A local disk that
   * refuses the write costs only what a missing journal costs, never the backup.
   */
  async record(packs: readonly JournaledPack[]): Promise<void> {
    try {
      if (packs.length === 0) {
        await unlink(this.file).catch(() => undefined);
        return;
      }
      await mkdir(this.directory, { recursive: true });
      const temp = join(this.directory, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
      await writeFile(temp, packs.map((p) => `${p.id} ${p.size}\n`).join(''));
      await rename(temp, this.file);
    } catch {
      // see above
    }
  }

  private async earlierFiles(): Promise<string[]> {
    const names = await readdir(this.directory).catch(() => [] as string[]);
    return names.filter((name) => name.startsWith('run-') && join(this.directory, name) !== this.file);
  }
}

/** The well-formed lines of a journal file; anything else (a torn or foreign line) is skipped. */
export function parseJournal(text: string): JournaledPack[] {
  const packs: JournaledPack[] = [];
  for (const line of text.split('\n')) {
    const [id, size, extra] = line.split(' ');
    const bytes = Number(size);
    if (extra === undefined && isId(id) && Number.isSafeInteger(bytes) && bytes > 0) packs.push({ id, size: bytes });
  }
  return packs;
}
