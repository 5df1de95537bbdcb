import { exportRestoreSuite } from './export-restore.case.js';

exportRestoreSuite({ name: 'SQLite and the file blob store', start: async () => ({ extra: [], env: {}, datacenter: [] }) });
