import { randomBytes } from 'node:crypto';
import { startAzurite } from '../../../testing/azurite.js';
import { runBlobStoreSuite } from '../store-suite.case.js';
import { AzureStore } from './azure-store.js';

runBlobStoreSuite('azure (Azurite)', async () => {
  const azurite = await startAzurite();
  return {
    store: AzureStore.fromConnectionString(azurite.connectionString, `suite-${randomBytes(4).toString('hex')}`),
    cleanup: () => azurite.stop(),
  };
});
