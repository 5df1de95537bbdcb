import type { Id } from './ids.js';
import type { PackEntry } from './master-index.js';
import { packName } from './layout.js';
import type { Repository } from './repository.js';
import { decodeTree, referencedBlobs } from './tree.js';
import { decodePackHeader, parsePackTrailer, PACK_TRAILER_LENGTH } from './pack.js';
import { DriveseedError } from '../errors.js';

export interface CheckProblem {
  /** The repository file the problem is in (or that is missing). */
  file: string;
  /** The blob concerned, if any. */
  blob?: Id;
  message: string;
}

export interface CheckReport {
  problems: CheckProblem[];
  /** Packs no index mentions: left by a killed backup; harmless, prune removes them. */
  unreferencedPacks: number;
  snapshots: number;
  packs: number;
  blobs: number;
  bytesRead: number;
}

export interface CheckOptions {
  readData?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Structure: every index and snapshot file decrypts and hashes to its name, every pack an
 * index names exists with its size, every tree reachable from a snapshot loads, and every
 * blob a tree names is in the index. With readData: every pack's bytes hash to its name,
 * its header matches the index, and every blob decrypts (MAC) and hashes to its id.
 */
export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  const problems: CheckProblem[] = [];
  const onFileError = (file: string, e: unknown) => problems.push({ file, message: messageOf(e) });
  problems.push(...(await repo.loadIndex()));
  const snapshots = await repo.listSnapshots(onFileError);
  const present = await repo.listPacks();

  let readable = 0;
  for (const pack of repo.index.allPacks()) {
    const size = present.get(pack.id);
    if (size === undefined) problems.push({ file: packName(pack.id), message: 'pack named in the index is missing' });
    else if (size !== pack.size) problems.push({ file: packName(pack.id), message: `pack is ${size} bytes, index says ${pack.size}` });
    else readable++;
  }
  const unreferencedPacks = [...present.keys()].filter((id) => !repo.index.hasPack(id)).length;

  await checkTrees(
    repo,
    snapshots.map((s) => ({ tree: s.tree, from: `snapshot ${s.id}` })),
    problems,
  );

  let bytesRead = 0;
  if (options.readData) {
    // One pack's entry at a time: all of them at once held an object a blob (gigabytes at 10 TB).
    let done = 0;
    for (const pack of repo.index.allPacks()) {
      if (present.get(pack.id) !== pack.size) continue;
      bytesRead += await checkPackData(repo, pack, problems);
      options.onProgress?.(++done, readable);
    }
  }
  return { problems, unreferencedPacks, snapshots: snapshots.length, packs: repo.index.packCount, blobs: repo.index.blobCount, bytesRead };
}

async function checkTrees(repo: Repository, roots: { tree: Id; from: string }[], problems: CheckProblem[]): Promise<void> {
  const seen = new Set<Id>();
  const queue = [...roots];
  while (queue.length > 0) {
    const { tree: id, from } = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const at = repo.index.lookup(id);
    if (!at) {
      problems.push({ file: from, blob: id, message: 'tree blob is not in the index' });
      continue;
    }
    let refs: { data: Id[]; trees: Id[] };
    try {
      refs = referencedBlobs(decodeTree(await repo.loadBlob('tree', id), `tree ${id}`));
    } catch (e) {
      problems.push({ file: packName(at.pack), blob: id, message: messageOf(e) });
      continue;
    }
    for (const data of refs.data) {
      if (!repo.index.has(data)) problems.push({ file: `tree ${id}`, blob: data, message: 'data blob is not in the index' });
    }
    for (const sub of refs.trees) queue.push({ tree: sub, from: `tree ${id}` });
  }
}

async function checkPackData(repo: Repository, indexed: PackEntry, problems: CheckProblem[]): Promise<number> {
  const file = packName(indexed.id);
  let bytes: Buffer;
  try {
    bytes = await repo.store.get(file);
  } catch (e) {
    problems.push({ file, message: messageOf(e) });
    return 0;
  }
  if (repo.fileId(bytes) !== indexed.id) problems.push({ file, message: 'pack content does not match its name (file damaged)' });
  try {
    const at = parsePackTrailer(bytes.subarray(bytes.length - PACK_TRAILER_LENGTH), bytes.length, file);
    const header = decodePackHeader(repo.key.encryption, bytes.subarray(at.offset, at.offset + at.length), file);
    if (header.length !== indexed.blobs.length) problems.push({ file, message: `pack header lists ${header.length} blobs, index ${indexed.blobs.length}` });
  } catch (e) {
    problems.push({ file, message: messageOf(e) });
  }
  for (const blob of indexed.blobs) {
    try {
      repo.decodeBlob(blob.type, blob.id, bytes.subarray(blob.offset, blob.offset + blob.length), blob.rawLength, `${blob.type} blob ${blob.id}`);
    } catch (e) {
      problems.push({ file, blob: blob.id, message: messageOf(e) });
    }
  }
  return bytes.length;
}

function messageOf(e: unknown): string {
  return e instanceof DriveseedError || e instanceof Error ? e.message : String(e);
}
