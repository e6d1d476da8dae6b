// Lint rules that protect the architecture: promises are awaited, type-only imports are marked,
// there are no import cycles, and workflow code cannot reach I/O (Temporal replays it, so it must
// stay deterministic; see STYLE.md).
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

// The README's "May import" table, one zone per folder: a file in `target` may import only from its
// own folder and the folders listed in `may`. Config types come from app/config*.ts (injected, never
// read from the environment outside app/).
const CONFIG = ['./app/config.ts', './app/config-file.ts'];
const mayImport = {
  api: [
    './domain',
    './db',
    './intake',
    './temporal',
    './drills',
    './slack',
    './connectors/inventory.ts',
    './connectors/kill-switch.ts',
    './connectors/status-document.ts',
    './workflows/messages.ts',
    './app/credentials.ts',
    ...CONFIG,
  ],
  intake: ['./domain', './db', './temporal', './playbooks', './workflows/messages.ts', ...CONFIG],
  slack: ['./domain', './db', './intake', './temporal', './workflows/messages.ts', ...CONFIG],
  activities: ['./domain', './db', './connectors', './slack', ...CONFIG],
  connectors: ['./domain', './db', ...CONFIG],
  drills: [
    './domain',
    './db',
    './intake',
    './temporal',
    './playbooks',
    './slack/notifier.ts',
    './workflows/messages.ts',
    './workflows/playbook-model.ts',
    ...CONFIG,
  ],
  temporal: ['./domain', './workflows', ...CONFIG],
  playbooks: ['./domain'],
  domain: [],
  db: ['./domain'],
  examples: [],
};
const boundaryZones = Object.entries(mayImport).map(([folder, may]) => ({
  target: `./${folder}`,
  from: '.',
  except: [`./${folder}`, './node_modules', ...may],
  message: `${folder}/ may import only ${may.length ? may.join(', ') : 'packages'} (README "May import").`,
}));

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'data/**',
      '.temporal/**',
      '.test-services/**',
      '.tmp/**',
      'db/migrations/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: boundaryZones }],
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', ['internal', 'parent', 'sibling', 'index']],
          'newlines-between': 'never',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Tests read loosely typed JSON responses.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code is replayed: no I/O, no clocks, no randomness outside the SDK.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [
            { name, message: 'Workflow code must be deterministic: do I/O in activities/.' },
            { name: `node:${name}`, message: 'Workflow code must be deterministic: do I/O in activities/.' },
          ]),
          patterns: [
            {
              group: ['**/db/**', 'drizzle-orm*', 'better-sqlite3'],
              message: 'No database access in workflows.',
            },
            { group: ['hono', 'hono/*', '@hono/*', '**/api/**'], message: 'No HTTP in workflows.' },
            { group: ['@slack/*', '**/slack/**'], message: 'No Slack in workflows: call an activity.' },
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
              message: 'Workflows use @temporalio/workflow only.',
            },
            {
              group: ['**/activities/**', '**/activities'],
              allowTypeImports: true,
              message: 'Import activities with `import type` only.',
            },
            {
              group: ['**/app/**', '**/temporal/**', '**/cli/**'],
              message: 'Workflows may not import process wiring.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process access in workflows.' },
        { name: 'require', message: 'No require in workflows.' },
      ],
    },
  },
);
