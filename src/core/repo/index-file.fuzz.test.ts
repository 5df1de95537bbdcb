import { it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { fuzz } from '../../testing/fuzz.js';
import { decodeIndexFile, encodeIndexFile, type PackEntry } from './index-file.js';

function packs(n: number, blobsEach: number): PackEntry[] {
  return Array.from({ length: n }, () => {
    let offset = 0;
    const blobs = Array.from({ length: blobsEach }, (_, i) => {
      const blob = { type: i % 3 ? ('data' as const) : ('tree' as const), id: randomBytes(32).toString('hex'), offset, length: 200 + i, rawLength: 150 + i };
      offset += blob.length;
      return blob;
    });
    return { id: randomBytes(32).toString('hex'), size: offset + 100, blobs };
  });
}

/** Reads every record of a version 2 file, as the loader does, so what the constructor let through is read too. */
function decodeAll(input: Buffer): unknown {
  const content = decodeIndexFile(input, 'index');
  if (content.version === 2) {
    const file = content.file;
    for (let p = 0; p < file.packCount; p++) file.packSize(p);
  }
  return content;
}

it('fuzz: a version 2 (binary) index payload decodes or is a DriveseedError', () => {
  fuzz({ name: 'index v2', samples: [encodeIndexFile(packs(1, 1)), encodeIndexFile(packs(2, 3)), encodeIndexFile([])], decode: decodeAll });
});

it('fuzz: a version 1 (JSON) index payload decodes or is a DriveseedError', () => {
  const v1 = (p: PackEntry[]) => Buffer.from(JSON.stringify({ version: 1, packs: p }));
  fuzz({ name: 'index v1', samples: [v1(packs(1, 1)), v1(packs(2, 3)), v1([])], decode: decodeAll });
});
