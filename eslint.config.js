// ESLint: typescript-eslint's recommended rules, no import cycles (eslint-plugin-import-x), and the import
// restrictions of docs/architecture.md that a file pattern can express. The full layer table is checked by
// test/architecture/layers.test.ts.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// Node's globals for the plain .js/.mjs scripts (TypeScript files are checked by tsc instead of no-undef).
const NODE_GLOBALS = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((g) => [
    g,
    'readonly',
  ]),
);
// The dashboard's web app (web/) runs in the browser, bundled by scripts/build-dashboard.mjs.
const BROWSER_GLOBALS = Object.fromEntries(
  [
    'window',
    'document',
    'location',
    'history',
    'fetch',
    'EventSource',
    'AbortController',
    'TextDecoder',
    'URLSearchParams',
    'HTMLElement',
    'console',
    'setTimeout',
    'clearTimeout',
  ].map((g) => [g, 'readonly']),
);
const MODEL_CODE = ['**/models/*', '**/nn/*', '**/tensor/*', '**/train/*', '**/posttrain/**'];

export default defineConfig([
  globalIgnores(['dist/', 'build/', 'node_modules/', 'native/', 'test/fixtures/', 'quickstart/', '.bench-cache/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: NODE_GLOBALS },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // The library never reaches up into the command.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/*'], message: 'src/ imports nothing from src/cli.' }] },
      ],
    },
  },
  {
    // The command uses only the public API, as a library user would.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../**', '!../index.ts'], message: 'src/cli imports the library only through ../index.ts.' },
          ],
        },
      ],
    },
  },
  {
    // The web app is browser code: of src/ it imports only the API's types, which the server shares with it.
    files: ['web/**/*.ts'],
    languageOptions: { globals: BROWSER_GLOBALS },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^(\.\./)+src/(?!dashboard/api-types\.ts$)`,
              message: 'web/ imports from src/ only src/dashboard/api-types.ts (the browser cannot run the rest).',
            },
          ],
        },
      ],
    },
  },
  {
    // The eval core imports no model code; the in-process backend is the one bridge.
    files: ['src/eval/**/*.ts'],
    ignores: ['src/eval/backends/local.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: MODEL_CODE,
              message: 'The eval core imports no model code (only src/eval/backends/local.ts does).',
            },
          ],
        },
      ],
    },
  },
  {
    // Leaves: random, verifiers, statistics and the CPython ports import nothing from the rest of src/.
    files: ['src/random/**/*.ts', 'src/stats/**/*.ts', 'src/pycompat/**/*.ts', 'src/verifiers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^(\.\./)+(cli|data|eval|index|io|models|nn|pddl|posttrain|quickstart|tensor|tokenizers|train)(/|\.ts$)`,
              message: 'A leaf folder imports nothing from the rest of src/.',
            },
          ],
        },
      ],
    },
  },
]);
