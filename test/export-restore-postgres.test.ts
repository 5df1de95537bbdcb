import { startAzurite } from '../src/testing/azurite.js';
import { startPostgres } from '../src/testing/postgres.js';
import { exportRestoreSuite } from './export-restore.case.js';

exportRestoreSuite({
  name: 'PostgreSQL and Azure Blob Storage (Azurite)',
  start: async (t) => {
    const postgres = await startPostgres();
    t.after(() => postgres.stop());
    const azurite = await startAzurite();
    t.after(() => azurite.stop());
    const db = await postgres.createDatabase('exports');
    const blob = ['--db', db, '--blob', 'azure:vaults'];
    return { extra: blob, env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString }, datacenter: blob };
  },
});
