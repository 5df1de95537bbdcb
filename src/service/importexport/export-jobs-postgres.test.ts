import { after } from 'node:test';
import { startPostgres, type Postgres } from '../../testing/postgres.js';
import { exportJobSuite } from './export-jobs.case.js';

let postgres: Postgres | undefined;
after(() => postgres?.stop());

exportJobSuite('PostgreSQL', async () => {
  postgres = await startPostgres();
  return postgres.createDatabase('exports');
});
