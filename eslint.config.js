// ESLint with typescript-eslint's recommended rules over every TypeScript source; formatting is
// Prettier's business (.prettierrc.json), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-output/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A variable a closure reads before its one assignment cannot be const (it would throw in the TDZ).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  // Tests read JSON answers and node:test contexts loosely; the code under test is typed.
  { files: ['test/**', 'src/**/*.test.ts', 'src/**/*.case.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // Migrations are written against the schema as it was when each ran, not today's types (kysely's advice).
  { files: ['src/service/db/migrations.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // The console bench's page functions run in the browser.
  { files: ['bench/console-bench.mjs', 'web/src/**'], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
);
