// What the browser test files share: a local stack of their own, API calls, the browser, and
// axe-core's accessibility check.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
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
const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
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
// its environment, `agent` is its own agent (LOCAL_ADMIN_*). Resolves once it prints its
// DynamoDB endpoint (printed after it serves), which `createAgent` needs.
export async function startStack(settings = {}, agent = AGENT) {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), TABLE_NAME: 'browser-test',
    LOCAL_ADMIN_EMAIL: agent.email, LOCAL_ADMIN_PASSWORD: agent.password, ...settings };
  delete env.AWS_ENDPOINT_URL_DYNAMODB;
  const child = spawn(join(targetDir, 'debug', 'local-api'), [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const dynamodb = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the local stack did not start in 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`the local stack exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('DynamoDB endpoint: ')) {
        clearTimeout(timer);
        resolve(line.slice('DynamoDB endpoint: '.length).trim());
      }
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, dynamodb, table: env.TABLE_NAME };
}

// `chat-admin create` against a stack's table, as ops add an agent, with the password on
// standard input.
export function createAgent(stack, agent) {
  execFileSync(join(targetDir, 'debug', 'chat-admin'), ['create', '--email', agent.email, '--name', agent.name, '--password-stdin'], {
    input: `${agent.password}\n`,
    env: { ...process.env, TABLE_NAME: stack.table, AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodb,
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
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

// `callAt` bound to one stack's URL.
export function apiAt(url) {
  return (method, path, body, headers) => callAt(url, method, path, body, headers);
}

// A customer opens a chat from the app (`prefix` '' or '/v1') and asks `question` unless it is
// null or undefined. Returns the chat's id and the customer's headers.
export async function openChat(url, userInfo, question, prefix = '') {
  const created = await callAt(url, 'POST', `${prefix}/api/chat/session`, { userInfo });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const { sessionId, clientToken } = created.body.data;
  const client = { 'X-Chat-Token': clientToken };
  if (question != null) {
    const asked = await callAt(url, 'POST', `${prefix}/api/chat/message`, { sessionId, message: question, sender: 'user' }, client);
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
  }
  return { sessionId, client };
}

// An agent's sign-in through the API: the token for the Authorization header.
export async function agentToken(url, agent = AGENT, prefix = '') {
  const login = await callAt(url, 'POST', `${prefix}/api/admin/auth/login`, { email: agent.email, password: agent.password });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return login.body.data.token;
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function signIn(page, url, agent = AGENT) {
  await page.goto(url);
  await page.getByLabel('Email').fill(agent.email);
  await page.getByLabel('Password').fill(agent.password);
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

// The dashboard's page (not signed in, so its own code stays idle): the stack's origin and its
// Content-Security-Policy, which must let the client open a WebSocket to the same host. Every
// request the page makes is recorded, to tell a push from a poll.
export async function openPushPage(browser, base) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  const requests = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  await page.goto(`${base}/v1/admin`);
  await page.locator('#login-view').waitFor();
  return { page, problems, requests, close: () => context.close() };
}

// Starts a PushClient in the page, imported from the URL the dashboard's own modules use (the
// served, versioned file). Its callbacks and the frames its sockets receive are recorded in
// `window.push`; its 60 s between push attempts while polling become `pushRetryMs`. The
// WebSocket it gets is the browser's, subclassed only to keep each instance (so a test can drop
// one) and, while `push.refuse` is set, to present a ticket the gateway refuses (401 on the
// upgrade), as when push cannot connect.
export async function startPushClient(page, pushRetryMs, options) {
  await page.evaluate(async ({ options, pushRetryMs }) => {
    const entry = document.querySelector('script[type="module"]').src;
    const { PushClient, PUSH_RETRY_MS } = await import(entry.replace('/app.js?', '/push-client.js?'));
    const push = {
      states: [], messages: [], events: [], snapshots: [], errors: [], frames: [], sockets: [], refuse: Boolean(options.refuse),
    };
    window.push = push;
    class RecordedSocket extends WebSocket {
      constructor(url) {
        super(push.refuse ? url.replace(/ticket=[^&]*/, 'ticket=refused') : url);
        push.sockets.push(this);
        this.addEventListener('message', (event) => push.frames.push(JSON.parse(event.data)));
      }
    }
    window.client = new PushClient({
      role: options.role,
      apiBase: document.querySelector('meta[name="api-base"]').content,
      sessionId: options.sessionId,
      chatToken: options.chatToken,
      agentToken: options.agentToken,
      WebSocket: RecordedSocket,
      setTimeout: (fn, ms) => setTimeout(fn, ms === PUSH_RETRY_MS ? pushRetryMs : ms),
      onMessage: (message, sessionId) => push.messages.push({ ...message, sessionId }),
      onEvent: (frame) => push.events.push(frame),
      onState: (state) => push.states.push(state),
      onSnapshot: (data) => push.snapshots.push({ sessionEnded: data.sessionEnded ?? null }),
      onError: (error) => push.errors.push(`${error.status} ${error.code}: ${error.message}`),
    });
    window.client.start();
  }, { options, pushRetryMs });
}

// Answers a ticket request as a stack without a push channel would (503): the dashboard then
// polls, as it did before the push channel.
export function refuseTicket(route) {
  return route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({ success: false, error: { code: 'PUSH_UNAVAILABLE', message: 'Refused by the test' } }),
  });
}

export function refusePush(page) {
  return page.route('**/api/admin/realtime/ticket', refuseTicket);
}
