import { DriveseedError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { FsStore } from './fs/fs-store.js';

/** The one place a location string becomes a concrete store. */
export function openStore(location: string): BlobStore {
  if (location.startsWith('azure://')) {
    throw new DriveseedError('USAGE', 'azure:// locations need the azure backend, which is not built yet');
  }
  return new FsStore(location);
}
