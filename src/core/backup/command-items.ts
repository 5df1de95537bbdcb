import { DriveseedError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { encodeTree, isPathComponent, type TreeNode } from '../repo/tree.js';
import type { ExtraRoot } from './archiver.js';
import { commandSource } from './command-source.js';
import { madeUpMeta, storeStream, streamFileNode } from './stream-archiver.js';

/**
 * The directory of a snapshot's root that holds the agent's command items, one file each: a
 * recovery point stays one snapshot (the files and the dumps of one run restore together), and
 * an item restores like any file (`dump`, or `restore` to a directory). Not hidden from
 * `restore` on purpose: a whole restore brings the dumps back too.
 */
export const ITEMS_DIR = '.driveseed-items';

export interface CommandItem {
  name: string;
  /** Run through the shell: `pg_dump -Fp sales`. */
  command: string;
}

export function itemPath(name: string): string {
  return `/${ITEMS_DIR}/${name}`;
}

/** An item's name is a file name of letters, digits, `.`, `_` and `-`: it is the item's file in the snapshot. */
export function assertItemName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) || !isPathComponent(name))
    throw new DriveseedError('USAGE', `item name ${JSON.stringify(name)} is not valid`, {
      hint: 'letters, digits, . _ and -, starting with a letter or digit',
    });
}

/**
 * Runs each item's command and stores its output (the same chunker as files, so successive
 * dumps deduplicate), one after another: two dumps at once would compete for the same disk
 * and database. The first that fails throws, naming the item; nothing refers to what it stored.
 */
export async function storeItems(repo: Repository, items: CommandItem[], onStderr?: (chunk: Buffer) => void): Promise<ExtraRoot> {
  if (items.length === 0) return { nodes: [], paths: [], files: 0, bytes: 0 };
  const files: TreeNode[] = [];
  for (const item of items) {
    const stored = await storeStream(repo, commandSource(['sh', '-c', item.command], onStderr, `item ${item.name} (${item.command})`));
    files.push(streamFileNode(item.name, stored));
  }
  const subtree = await repo.saveBlob('tree', encodeTree({ nodes: files }));
  return {
    nodes: [{ ...madeUpMeta(ITEMS_DIR, 0o700), type: 'dir', subtree }],
    paths: items.map((i) => itemPath(i.name)),
    files: items.length,
    bytes: files.reduce((n, f) => n + f.size!, 0),
    items: files.map((f) => ({ name: f.name, bytes: f.size! })),
  };
}

const COMPRESSORS = /\|\s*(gzip|pigz|bzip2|pbzip2|xz|zstd|lz4|brotli)\b/;
const PG_DUMP = /\bpg_dump\b/;
const PG_COMPRESSED_FORMAT = /(^|\s)(-F\s*[cd]|--format[= ](c|d|custom|directory))(\s|$)/;
const PG_NO_COMPRESSION = /(^|\s)(-Z\s*0|--compress[= ](0|none))(\s|$)/;
const PG_COMPRESSION = /(^|\s)(-Z\s*\S+|--compress[= ]\S+)/;

/**
 * Why a command's output will not deduplicate from one run to the next, when that is known
 * from the command alone (docs/workloads.md: compressed dumps change from the first changed
 * byte on, so each run stores the whole dump again), or undefined.
 */
export function dedupWarning(command: string): string | undefined {
  const compressor = COMPRESSORS.exec(command);
  if (compressor) return `its output is compressed (${compressor[1]}), so each dump is stored whole: leave the compression to driveseed`;
  if (!PG_DUMP.test(command) || PG_NO_COMPRESSION.test(command)) return undefined;
  if (PG_COMPRESSED_FORMAT.test(command)) return "pg_dump's custom and directory formats compress by default, so each dump is stored whole: add -Z0";
  if (PG_COMPRESSION.test(command)) return 'pg_dump -Z compresses the dump, so each one is stored whole: leave -Z out (or -Z0)';
  return undefined;
}
