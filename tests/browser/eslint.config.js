// ESLint's recommended rules over the dashboard's modules (browser) and these tests (Node, with
// code that runs in the page). Paths are from the repository root: lint.test.mjs runs it there.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['functions/admin-dashboard/assets/*.js'],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['tests/browser/*.mjs', 'tests/browser/*.js'],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: { ...globals.node, ...globals.browser } },
  },
];
