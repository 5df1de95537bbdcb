import { createRequire } from 'node:module';
import type * as BlakeHash from '@napi-rs/blake-hash';
import { DriveseedError } from '../errors.js';

/*
 * BLAKE3 through a napi-rs binding (prebuilt per platform as npm packages): node's crypto has
 * none, and it hashes 4× faster than node's SHA-256 with SHA extensions here (6.7 against
 * 1.67 GB/s a core over 512 KiB), on every byte a backup stores. Loaded on first use.
 */
let binding: typeof BlakeHash | undefined;

export function blake3Binding(): typeof BlakeHash {
  try {
    binding ??= createRequire(import.meta.url)('@napi-rs/blake-hash') as typeof BlakeHash;
  } catch (cause) {
    throw new DriveseedError(
      'UNSUPPORTED_PLATFORM',
      `BLAKE3 (@napi-rs/blake-hash) does not load on this platform: ${(cause as Error).message.split('\n')[0]}`,
      {
        hint: 'reinstall driveseed with `npm ci` on this machine',
        cause,
      },
    );
  }
  return binding;
}

/** The binding takes Buffers: a view of the same bytes, not a copy. */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
