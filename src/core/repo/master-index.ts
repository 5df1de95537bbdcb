import { DriveseedError } from '../errors.js';
import { isId, type Id } from './ids.js';
import type { BlobType, PackedBlob } from './pack.js';

/** The version index files are written in (docs/format.md, Index files). */
export const INDEX_VERSION = 1;

export interface PackEntry {
  id: Id;
  size: number;
  blobs: PackedBlob[];
}

export interface IndexFile {
  version: number;
  packs: PackEntry[];
}

export interface BlobLocation extends PackedBlob {
  pack: Id;
}

/** Where every blob lives: the union of all index files, and of what this run stored. */
export class MasterIndex {
  private readonly blobs = new Map<Id, BlobLocation>();
  private readonly packs = new Map<Id, PackEntry>();

  addPack(pack: PackEntry): void {
    this.packs.set(pack.id, pack);
    for (const blob of pack.blobs) {
      // The first location wins: a blob stored twice (two racing writers) is still one blob.
      if (!this.blobs.has(blob.id)) this.blobs.set(blob.id, { ...blob, pack: pack.id });
    }
  }

  has(id: Id): boolean {
    return this.blobs.has(id);
  }

  lookup(id: Id): BlobLocation | undefined {
    return this.blobs.get(id);
  }

  hasPack(id: Id): boolean {
    return this.packs.has(id);
  }

  pack(id: Id): PackEntry | undefined {
    return this.packs.get(id);
  }

  allPacks(): IterableIterator<PackEntry> {
    return this.packs.values();
  }

  get blobCount(): number {
    return this.blobs.size;
  }

  get packCount(): number {
    return this.packs.size;
  }
}

export function decodeIndexFile(value: unknown, what: string): IndexFile {
  const file = value as IndexFile;
  if (typeof file !== 'object' || file === null) throw new DriveseedError('CORRUPT', `${what}: not an index`);
  if (file.version !== INDEX_VERSION) {
    throw new DriveseedError('UNSUPPORTED_VERSION', `${what}: index version ${file.version} is not supported`);
  }
  if (!Array.isArray(file.packs)) throw new DriveseedError('CORRUPT', `${what}: index has no pack list`);
  for (const pack of file.packs) {
    if (!isId(pack.id) || !Array.isArray(pack.blobs)) throw new DriveseedError('CORRUPT', `${what}: malformed pack entry`);
    for (const blob of pack.blobs) {
      if (!isId(blob.id) || !isBlobType(blob.type)) throw new DriveseedError('CORRUPT', `${what}: malformed blob entry in pack ${pack.id}`);
    }
  }
  return file;
}

function isBlobType(value: unknown): value is BlobType {
  return value === 'data' || value === 'tree';
}
