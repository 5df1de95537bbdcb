// Where a driveseed repository's bytes are: data packs, tree packs, index and snapshot files.
// The engine bench takes it before and after the ~1 % change, to say where the growth went.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dist = (path) => new URL(`../dist/src/core/${path}`, import.meta.url).href;

function folderBytes(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  return bytes;
}

/** Bytes of data packs, tree packs, index files and snapshot files of the repository in `dir`. */
export async function repositoryBreakdown(dir, password) {
  const { FsStore } = await import(dist('storage/fs/fs-store.js'));
  const { Repository } = await import(dist('repo/repository.js'));
  const repo = await Repository.open(new FsStore(dir), password);
  await repo.loadIndex();
  const out = { dataPacks: 0, treePacks: 0, index: folderBytes(join(dir, 'index')), snapshots: folderBytes(join(dir, 'snapshots')) };
  for (const pack of repo.index.allPacks()) {
    if (pack.blobs.every((b) => b.type === 'tree')) out.treePacks += pack.size;
    else out.dataPacks += pack.size;
  }
  return out;
}
