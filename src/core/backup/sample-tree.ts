import { mkdir, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A deterministic tree of text-like and binary files for the demo and tests: compressible
 * text, incompressible noise, one larger file, empty files and dirs, a symlink.
 */
export async function writeSampleTree(root: string, seed = 1, fileCount = 200): Promise<{ files: number; bytes: number }> {
  const random = mulberry32(seed);
  let bytes = 0;
  const words = ['backup', 'seed', 'drive', 'vault', 'import', 'block', 'manifest', 'chunk', 'pack', 'index', 'tree', 'snapshot'];
  for (let i = 0; i < fileCount; i++) {
    const dir = join(root, `dir${i % 10}`, `sub${i % 3}`);
    await mkdir(dir, { recursive: true });
    const size = Math.floor(random() * 64 * 1024);
    const data = i % 4 === 0 ? noise(size, random) : Buffer.from(text(size, random, words));
    await writeFile(join(dir, `file${i}.${i % 4 === 0 ? 'bin' : 'txt'}`), data);
    bytes += data.length;
  }
  const large = noise(3 * 1024 * 1024, random);
  await writeFile(join(root, 'large.bin'), Buffer.concat([large, large.subarray(0, 1024 * 1024)]));
  bytes += large.length + 1024 * 1024;
  await mkdir(join(root, 'empty-dir'), { recursive: true });
  await writeFile(join(root, 'empty-file'), '');
  await symlink('dir0/sub0/file0.bin', join(root, 'link-to-file0'));
  return { files: fileCount + 2, bytes };
}

function text(size: number, random: () => number, words: string[]): string {
  let out = '';
  while (out.length < size) out += words[Math.floor(random() * words.length)] + (random() < 0.1 ? '\n' : ' ');
  return out.slice(0, size);
}

function noise(size: number, random: () => number): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = Math.floor(random() * 256);
  return buf;
}

/** A tiny seeded PRNG, so the same seed always gives the same tree. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
