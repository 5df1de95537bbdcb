import { DriveseedError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { fileId, type FileIdScheme, type Id } from './ids.js';
import { idFromName } from './layout.js';
import { decodeSealed, encodeSealed, parseJson, type SealedKind } from './sealed-file.js';

/**
 * The repository's files that are named by the hash of their bytes (packs, index and snapshot
 * files): every read checks the name, every write takes the name from the bytes, under the
 * repository version's scheme.
 */
export class RepositoryFiles {
  constructor(
    readonly store: BlobStore,
    private readonly key: Buffer,
    private readonly scheme: FileIdScheme,
  ) {}

  fileId(bytes: Uint8Array | readonly Uint8Array[]): Id {
    return fileId(bytes, this.scheme);
  }

  /** Reads a file and checks that its bytes hash to its name. */
  async readVerified(name: string): Promise<Buffer> {
    const bytes = await this.store.get(name);
    if (this.fileId(bytes) !== idFromName(name)) {
      throw new DriveseedError('CORRUPT', `${name}: content does not match its name (file damaged)`);
    }
    return bytes;
  }

  /** An index or snapshot file's JSON, verified and opened. */
  async readSealed(kind: SealedKind, name: string): Promise<unknown> {
    return parseJson(await this.readSealedPayload(kind, name), name);
  }

  /** An index or snapshot file's payload, verified, opened and decompressed. */
  async readSealedPayload(kind: SealedKind, name: string): Promise<Buffer> {
    return decodeSealed(this.key, kind, await this.readVerified(name), name);
  }

  /** Stores `value` as a sealed file of JSON in `dir`, named by its bytes; returns its id and size. */
  writeSealed(kind: SealedKind, dir: string, value: unknown): Promise<{ id: Id; size: number }> {
    return this.writeSealedPayload(kind, dir, Buffer.from(JSON.stringify(value), 'utf8'));
  }

  /** Stores `payload` as a sealed file in `dir`, named by its bytes; returns its id and size. */
  async writeSealedPayload(kind: SealedKind, dir: string, payload: Uint8Array): Promise<{ id: Id; size: number }> {
    const bytes = encodeSealed(this.key, kind, payload);
    const id = this.fileId(bytes);
    await this.store.put(dir + id, bytes);
    return { id, size: bytes.length };
  }
}
