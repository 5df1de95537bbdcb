import { join } from 'node:path';
import { directSuite } from './vault-direct.case.js';

directSuite('SQLite', async (dir) => join(dir, 'service.db'));
