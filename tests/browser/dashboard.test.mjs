// The dashboard as a support agent uses it, in headless Chromium, against the local stack
// (the `make dev` binary on a free port): sign in, see the waiting customer, read, reply, end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const artifacts = join(root, 'tests', 'artifacts');
const AGENT = { email: 'agent@support.test', password: 'a long password for the browser test' };

let stack;
let base;
let browser;

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startStack() {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), TABLE_NAME: 'browser-test',
    LOCAL_ADMIN_EMAIL: AGENT.email, LOCAL_ADMIN_PASSWORD: AGENT.password };
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

async function call(method, path, body, headers = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startStack();
  base = stack.url;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (stack) {
    stack.child.kill('SIGINT');
    await new Promise((resolve) => stack.child.once('exit', resolve));
  }
});

test('an agent signs in, answers a waiting customer and ends the chat', { timeout: 120_000 }, async () => {
  // A customer starts a chat from the app and asks something.
  const created = await call('POST', '/api/chat/session', { userInfo: { name: 'Maria Lopez', email: 'maria@example.com' } });
  assert.equal(created.status, 200);
  const { sessionId, clientToken } = created.body.data;
  const client = { 'X-Chat-Token': clientToken };
  const asked = await call('POST', '/api/chat/message', { sessionId, message: 'My order #1234 has not arrived', sender: 'user' }, client);
  assert.equal(asked.status, 200);

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  const problems = [];
  // Refused requests (the wrong password, the aborted send) log "Failed to load resource";
  // anything else, such as a CSP violation, is a problem.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  // The deployed URL form: the stage is the first path segment (`DashboardUrl` ends in /v1/admin).
  await page.goto(`${base}/v1/admin`);

  // A wrong password is refused with a clear message.
  await page.getByLabel('Email').fill(AGENT.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();

  // The right one opens the dashboard, with the customer waiting in the list.
  await page.getByLabel('Password').fill(AGENT.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const entry = page.locator('#session-list button', { hasText: 'Maria Lopez' });
  await entry.waitFor();
  assert.match(await entry.innerText(), /Waiting .* for a reply/);
  assert.match(await entry.innerText(), /My order #1234 has not arrived/);

  // Open it and read the message.
  await entry.click();
  await page.locator('#transcript li.user', { hasText: 'My order #1234 has not arrived' }).waitFor();
  assert.equal(await page.locator('#chat-title').innerText(), 'Chat with Maria Lopez');

  // A reply that fails to send stays in the box, with an error.
  await page.route('**/api/admin/chat/message', (route) => route.abort());
  const box = page.getByLabel('Your reply');
  await box.fill('Sorry about that! Let me check.');
  await box.press('Enter');
  await page.locator('#reply-error', { hasText: 'Not sent' }).waitFor();
  assert.equal(await box.inputValue(), 'Sorry about that! Let me check.');
  await page.unroute('**/api/admin/chat/message');

  // Enter sends it; it shows in the transcript, and the customer's app receives it.
  await box.press('Enter');
  await page.locator('#transcript li.admin', { hasText: 'Sorry about that! Let me check.' }).waitFor();
  assert.equal(await box.inputValue(), '');
  const polled = await call('GET', `/api/chat/poll/${sessionId}`, undefined, client);
  assert.deepEqual(polled.body.data.messages.map((m) => m.message), ['Sorry about that! Let me check.']);

  // The customer answers; the open chat picks it up by itself.
  await call('POST', '/api/chat/message', { sessionId, message: 'Thanks, it was a gift', sender: 'user' }, client);
  await page.locator('#transcript li.user', { hasText: 'Thanks, it was a gift' }).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: false });

  // The chat view polled with a cursor and fetched the whole transcript only once.
  const transcriptCalls = requests.filter((url) => url.includes(`/api/admin/chat/messages/${sessionId}`));
  const whole = transcriptCalls.filter((url) => !url.includes('after='));
  assert.equal(whole.length, 1, `one full read when opened: ${transcriptCalls.join(', ')}`);
  assert.ok(transcriptCalls.length - whole.length >= 2, 'later reads carry ?after=');

  // End the chat (behind a confirmation): it leaves the list, the app sees it ended.
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'End chat' }).click();
  await page.locator('#chat-status', { hasText: 'This chat ended by support' }).waitFor();
  await entry.waitFor({ state: 'detached' });
  const after = await call('GET', `/api/chat/poll/${sessionId}`, undefined, client);
  assert.equal(after.body.data.sessionEnded, true);
  assert.equal(after.body.data.sessionStatus, 'ended_by_admin');

  // The customer rates it; the agent sees the rating on the ended chat.
  await call('POST', '/api/chat/rating', { sessionId, rating: 5, feedback: 'Quick and kind' }, client);
  await page.locator('#chat-status', { hasText: 'Rating: 5 of 5' }).waitFor({ timeout: 10_000 });

  assert.deepEqual(problems, [], 'no script errors or CSP violations');
  // The page, its assets and every API call stayed under the prefix it was served from.
  const outside = requests.filter((url) => !url.startsWith(`${base}/v1/`) && !url.startsWith('data:'));
  assert.deepEqual(outside, [], 'every request stays under /v1/');
  assert.ok(requests.some((url) => url.startsWith(`${base}/v1/admin/app.js?v=`)));
  assert.ok(requests.some((url) => url.startsWith(`${base}/v1/api/admin/chat/active-sessions`)));
  await page.close();
});

test('the dashboard also works at the root, as behind a custom domain', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  const requests = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  await page.goto(`${base}/admin`);
  await page.getByLabel('Email').fill(AGENT.email);
  await page.getByLabel('Password').fill(AGENT.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#sessions-heading').waitFor();
  assert.ok(requests.includes('/admin/app.css'), requests.join(', '));
  assert.ok(requests.includes('/api/admin/auth/login'), requests.join(', '));
  assert.deepEqual(requests.filter((path) => path.startsWith('/v1/')), [], 'nothing under the stage path');
  await page.close();
});

test('a new chat is announced while the agent works', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  await page.goto(`${base}/admin`);
  await page.getByLabel('Email').fill(AGENT.email);
  await page.getByLabel('Password').fill(AGENT.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#sessions-heading').waitFor();
  await page.waitForTimeout(500);
  await call('POST', '/api/chat/session', { userInfo: { isGuest: true } });
  await page.locator('#notice', { hasText: 'New chat from Guest' }).waitFor({ timeout: 15_000 });
  await page.close();
});

test('an expired or revoked sign-in goes back to the login form', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/admin`);
  await page.evaluate(() => sessionStorage.setItem('supportChat.auth', JSON.stringify({
    token: 'not.a.token', expiresAt: new Date(Date.now() + 3_600_000).toISOString(), admin: { name: 'Someone' },
  })));
  await page.reload();
  await page.getByRole('alert').filter({ hasText: 'Please sign in again' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.getByLabel('Email').isVisible(), true);
  await page.close();
});
