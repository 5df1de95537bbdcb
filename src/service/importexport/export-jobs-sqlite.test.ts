import { join } from 'node:path';
import { exportJobSuite } from './export-jobs.case.js';

exportJobSuite('SQLite', async (dir) => join(dir, 'test.db'));
