import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Differences between two directory trees: content, type, mode, mtime (to the millisecond)
 * and symlink targets. Used by the demo and the tests to prove a restore byte for byte.
 */
export async function compareTrees(expected: string, actual: string): Promise<string[]> {
  const diffs: string[] = [];
  await compareDir(expected, actual, '', diffs);
  return diffs;
}

async function compareDir(a: string, b: string, rel: string, diffs: string[]): Promise<void> {
  const [namesA, namesB] = await Promise.all([readdir(join(a, rel)), readdir(join(b, rel)).catch(() => [] as string[])]);
  const setB = new Set(namesB);
  for (const name of namesB) if (!namesA.includes(name)) diffs.push(`${join(rel, name)}: not expected`);
  for (const name of namesA.sort()) {
    const path = join(rel, name);
    if (!setB.has(name)) {
      diffs.push(`${path}: missing`);
      continue;
    }
    const [sa, sb] = await Promise.all([lstat(join(a, path)), lstat(join(b, path))]);
    if ((sa.mode & 0o170000) !== (sb.mode & 0o170000)) {
      diffs.push(`${path}: type differs`);
      continue;
    }
    if (sa.isSymbolicLink()) {
      if ((await readlink(join(a, path))) !== (await readlink(join(b, path)))) diffs.push(`${path}: link target differs`);
      continue;
    }
    if ((sa.mode & 0o7777) !== (sb.mode & 0o7777)) diffs.push(`${path}: mode ${(sa.mode & 0o7777).toString(8)} ≠ ${(sb.mode & 0o7777).toString(8)}`);
    if (sa.isDirectory()) {
      await compareDir(a, b, path, diffs);
    } else if (sa.isFile()) {
      if (!(await readFile(join(a, path))).equals(await readFile(join(b, path)))) diffs.push(`${path}: content differs`);
    }
    if (Math.floor(sa.mtimeMs) !== Math.floor(sb.mtimeMs)) diffs.push(`${path}: mtime differs`);
  }
}
