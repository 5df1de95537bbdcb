import { after } from 'node:test';
import { startPostgres, type Postgres } from '../src/testing/postgres.js';
import { directSuite } from './vault-direct.case.js';

let postgres: Postgres | undefined;
after(() => postgres?.stop());

directSuite('PostgreSQL', async () => {
  postgres = await startPostgres();
  return postgres.createDatabase('direct');
});
