// Lint rules: typescript-eslint's recommended set, prettier for formatting, and the project's import
// boundaries: outside dependencies are imported only by their owner module under src/roles/io, and the
// engine imports nothing from roles, commands or Node's I/O modules.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

const OWNED_PACKAGES = ['@nats-io/*', 'better-sqlite3', 'undici', 'yaml']

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'bench/results/**', '.tmp/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/roles/io/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {group: OWNED_PACKAGES, message: 'import this only from its owner module in src/roles/io/'},
          ],
        },
      ],
    },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/roles/**', '**/commands/**'],
              message: 'the engine is pure: it imports nothing from roles or commands',
            },
            {
              group: ['node:fs', 'node:fs/*', 'node:net', 'node:http', 'node:child_process', 'node:dgram'],
              message: 'the engine does no I/O',
            },
            {group: OWNED_PACKAGES, message: 'the engine does no I/O'},
          ],
        },
      ],
    },
  },
)
