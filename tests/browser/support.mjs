// What the browser test files share: a local stack of their own, API calls, the browser, and
// axe-core's accessibility check.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const artifacts = join(root, 'tests', 'artifacts');
export const AGENT = { email: 'agent@support.test', password: 'a long password for the browser test' };
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// The `make dev` binary on a free port with a DynamoDB server of its own; `settings` add to
// its environment.
export async function startStack(settings = {}) {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), TABLE_NAME: 'browser-test',
    LOCAL_ADMIN_EMAIL: AGENT.email, LOCAL_ADMIN_PASSWORD: AGENT.password, ...settings };
  delete env.AWS_ENDPOINT_URL_DYNAMODB;
  const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
  const child = spawn(join(targetDir, 'debug', 'local-api'), [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the local stack did not start in 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`the local stack exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('Support chat API: ')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

export async function stopStack(running) {
  if (!running) return;
  running.child.kill('SIGINT');
  await new Promise((resolve) => running.child.once('exit', resolve));
}

export async function callAt(url, method, path, body, headers = {}) {
  const response = await fetch(url + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function signIn(page, url) {
  await page.goto(url);
  await page.getByLabel('Email').fill(AGENT.email);
  await page.getByLabel('Password').fill(AGENT.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// Script errors and CSP violations on a page; refused requests log "Failed to load resource".
export function watchProblems(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

// axe-core (WCAG 2.x A and AA rules and best practices) on the page as it is now: no
// violations. It is evaluated through the DevTools protocol, which the page's CSP does not
// govern, so the page keeps its strict policy.
export async function assertAccessible(page, view) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `axe-core violations in the ${view}`);
}
