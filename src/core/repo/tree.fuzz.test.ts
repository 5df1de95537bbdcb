import { it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { decodeTree, encodeTree, referencedBlobs } from './tree.js';

const id = () => randomBytes(32).toString('hex');

it('fuzz: a tree blob decodes to a tree whose blobs can be listed, or a DriveseedError', () => {
  const base = { mode: 0o644, mtimeNs: '1700000000123456789', uid: 1000, gid: 1000 };
  const sample = encodeTree({
    nodes: [
      { ...base, name: 'a.txt', type: 'file', size: 5, inode: 12, dev: 2049, content: [id(), id()] },
      { ...base, name: 'dir', type: 'dir', mode: 0o755, subtree: id() },
      { ...base, name: 'link', type: 'symlink', linkTarget: '../a.txt' },
    ],
  });
  fuzz({
    name: 'tree',
    samples: [sample, encodeTree({ nodes: [] })],
    // Check and prune walk every tree's references: they must not throw on what decodeTree let through.
    decode: (input) => referencedBlobs(decodeTree(input, 'tree')),
  });
});
