import { join } from 'node:path';
import { importJobSuite } from './import-jobs.case.js';

importJobSuite('SQLite', async (dir) => join(dir, 'test.db'));
