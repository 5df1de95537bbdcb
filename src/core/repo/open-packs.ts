import { blobDataLength } from '../storage/blob-store.js';
import type { Id } from './ids.js';
import { PACK_TARGET_SIZE, PackBuilder, type BlobType } from './pack.js';
import type { PackUploader } from './pack-uploader.js';
import type { RepositoryFiles } from './repository-files.js';

/** A pack being filled on main: its layout, and the sealed blobs as they were handed over. */
class OpenPack {
  readonly layout = new PackBuilder();
  readonly parts: Buffer[] = [];
}

/**
 * The data and tree packs main fills with blobs sealed on main — every tree, and the blobs
 * prune moves — one of each type at a time; a full one goes to the uploader. Chunk workers
 * build their data packs themselves, in their own buffers (chunk-worker.ts).
 */
export class OpenPacks {
  private readonly packs: Record<BlobType, OpenPack> = { data: new OpenPack(), tree: new OpenPack() };

  constructor(
    private readonly key: Buffer,
    private readonly files: RepositoryFiles,
    private readonly uploader: PackUploader,
  ) {}

  async add(type: BlobType, id: Id, sealed: Buffer, rawLength: number): Promise<void> {
    const pack = this.packs[type];
    pack.layout.commit(type, id, sealed.length, rawLength);
    pack.parts.push(sealed);
    if (pack.layout.size >= PACK_TARGET_SIZE) await this.close(type);
  }

  /** Hands the open pack of `type` to the uploader, if it holds anything. */
  async close(type: BlobType): Promise<void> {
    const { layout, parts } = this.packs[type];
    if (layout.blobs.length === 0) return;
    // A new pack first: blobs added while this one waits for an upload go into the next.
    this.packs[type] = new OpenPack();
    const bytes = [...parts, layout.tail(this.key)];
    await this.uploader.upload({ id: this.files.fileId(bytes), size: blobDataLength(bytes), blobs: layout.blobs }, bytes);
  }
}
