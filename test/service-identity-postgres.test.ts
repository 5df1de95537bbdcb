import { after } from 'node:test';
import { startPostgres, type Postgres } from '../src/testing/postgres.js';
import { identitySuite } from './service-identity.case.js';

let postgres: Postgres | undefined;
after(() => postgres?.stop());

identitySuite('PostgreSQL', async () => {
  postgres = await startPostgres();
  return postgres.createDatabase('identity');
});
