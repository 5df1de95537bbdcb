import { MemoryStore } from './memory-store.js';
import { runBlobStoreSuite } from '../store-suite.case.js';

runBlobStoreSuite('memory', async () => ({ store: new MemoryStore(), cleanup: async () => undefined }));
