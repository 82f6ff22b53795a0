// The lint as a test, so `make test` counts it: ESLint (eslint.config.js) over the dashboard's
// modules and the browser tests, with no problem reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

test('ESLint finds no problem in the dashboard or its tests', async () => {
  const eslint = new ESLint({ cwd: root, overrideConfigFile: join(here, 'eslint.config.js') });
  const results = await eslint.lintFiles(['functions/admin-dashboard/assets/*.js', 'tests/browser/*.mjs', 'tests/browser/eslint.config.js']);
  const linted = results.map((result) => relative(root, result.filePath));
  assert.ok(linted.includes('functions/admin-dashboard/assets/app.js'), linted.join(', '));
  assert.ok(linted.includes('tests/browser/support.mjs'), linted.join(', '));
  assert.ok(linted.includes('functions/admin-dashboard/assets/push-client.js'), linted.join(', '));
  assert.ok(linted.includes('tests/browser/push-client.test.mjs'), linted.join(', '));
  assert.ok(linted.includes('tests/browser/push.test.mjs'), linted.join(', '));
  const problems = results.flatMap((result) => result.messages.map((m) => `${relative(root, result.filePath)}:${m.line}:${m.column} ${m.message} (${m.ruleId})`));
  assert.deepEqual(problems, [], `ESLint:\n${problems.join('\n')}`);
});
