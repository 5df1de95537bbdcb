// The layers of docs/architecture (README "Layout"): imports point down only, and no cycles.
// `npm test` runs this first (scripts/check.mjs), so CI fails on a wrong-way import.
const own = (dirs) => `^src/(${dirs.join('|')})(/|\\.ts$)`;
const tests = '\\.(test|case)\\.ts$';

/** What each layer may import from src/, besides itself. */
const layers = [
  { name: 'core/util', may: ['core/util', 'core/errors'] },
  { name: 'core/errors', may: ['core/errors'] },
  { name: 'core/certificates', may: ['core/certificates', 'core/util', 'core/errors'] },
  { name: 'core/storage', may: ['core/storage', 'core/util', 'core/errors'] },
  { name: 'core/repo', may: ['core/repo', 'core/storage', 'core/util', 'core/errors'] },
  { name: 'core/backup', may: ['core/backup', 'core/repo', 'core/storage', 'core/util', 'core/errors'] },
  { name: 'core/envelope', may: ['core/envelope', 'core/backup', 'core/repo', 'core/storage', 'core/util', 'core/errors'] },
  { name: 'api', may: ['api', 'core'] },
  { name: 'service', may: ['service', 'api', 'core'] },
  { name: 'client', may: ['client', 'api', 'core'] },
  { name: 'testing', may: ['testing', 'core'] },
  { name: 'cli', may: ['cli', 'client', 'service', 'api', 'core'] },
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: cut it by moving the shared part down.',
      from: {},
      to: { circular: true },
    },
    ...layers.map(({ name, may }) => ({
      name: `layer-${name.replace('/', '-')}`,
      severity: 'error',
      comment: `${name} imports only ${may.join(', ')} (tests beside the code may also use src/testing)`,
      from: { path: own([name]), pathNot: tests },
      to: { path: '^src/', pathNot: own(may) },
    })),
    {
      name: 'layer-tests-beside-code',
      severity: 'error',
      comment: 'A test beside the code may use its own layer, the layers below it and src/testing, never the CLI',
      from: { path: '^src/(core|api|service|client)/.*' + tests },
      to: { path: '^src/cli/' },
    },
    {
      name: 'web-imports-api-types-only',
      severity: 'error',
      comment: 'The browser bundle takes only types from the API: nothing of the server is shipped to it',
      from: { path: '^web/src/' },
      to: { path: '^src/', pathNot: '^src/api/' },
    },
    {
      name: 'web-type-only',
      severity: 'error',
      comment: 'The browser bundle takes only types from the API: nothing of the server is shipped to it',
      from: { path: '^web/src/' },
      to: { path: '^src/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
