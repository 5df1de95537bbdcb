import { DriveseedError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { FsStore } from './fs/fs-store.js';

const AZURE_PREFIX = 'azure://';

/** The one place a location string becomes a concrete store: a directory, or azure://CONTAINER. */
export async function openStore(location: string): Promise<BlobStore> {
  if (!location.startsWith(AZURE_PREFIX)) return new FsStore(location);
  const container = location.slice(AZURE_PREFIX.length).replace(/\/+$/, '');
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container)) {
    throw new DriveseedError('USAGE', `"${container}" is not a valid Azure container name`, {
      hint: '3–63 lower-case letters, digits and single hyphens',
    });
  }
  const connection = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!connection) {
    throw new DriveseedError('USAGE', `${location} needs AZURE_STORAGE_CONNECTION_STRING`, { hint: 'set it to the storage account connection string' });
  }
  // The Azure SDK takes a sixth of a second to load: only stores that need it pay for it.
  const { AzureStore } = await import('./azure/azure-store.js');
  return AzureStore.fromConnectionString(connection, container);
}
