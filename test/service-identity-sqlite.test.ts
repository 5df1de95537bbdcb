import { identitySuite } from './service-identity.case.js';

identitySuite('SQLite', async () => undefined);
