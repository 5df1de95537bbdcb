import { after } from 'node:test';
import { startPostgres, type Postgres } from '../../testing/postgres.js';
import { importJobSuite } from './import-jobs.case.js';

let postgres: Postgres | undefined;
after(() => postgres?.stop());

importJobSuite('PostgreSQL', async () => {
  postgres = await startPostgres();
  return postgres.createDatabase('imports');
});
