// The issues' ~1% change to a tree, shared by the benches: a line appended to 1 file in 100,
// 64 KB overwritten in the middle of each of the 20 largest files, one new 4 MB file.
import { appendFileSync, closeSync, lstatSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export function listFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && !e.name.startsWith('.complete')) {
      const path = join(e.parentPath, e.name);
      out.push({ path, size: lstatSync(path).size });
    }
  }
  return out;
}

export function applyChange(dir, round) {
  const files = listFiles(dir).sort((a, b) => a.path.localeCompare(b.path));
  files.forEach((f, i) => {
    if (i % 100 === 0) appendFileSync(f.path, `changed in round ${round}\n`);
  });
  for (const f of [...files].sort((a, b) => b.size - a.size).slice(0, 20)) {
    const fd = openSync(f.path, 'r+');
    writeSync(fd, randomBytes(64 * 1024), 0, 64 * 1024, Math.floor(f.size / 2));
    closeSync(fd);
  }
  writeFileSync(join(dir, `new-${round}.bin`), randomBytes(4 * 1024 * 1024));
}
