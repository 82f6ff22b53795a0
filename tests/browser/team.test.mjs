// Two support agents, each in a browser context of their own, on one local stack: one claims a
// chat, the other sees who holds it and is refused when replying (and may send anyway), the
// list filters by holder, and a transfer hands the chat over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const artifacts = join(root, 'tests', 'artifacts');
const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
const TABLE = 'team-browser-test';
// The stack's own agent (LOCAL_ADMIN_*), and a second one created as ops do (chat-admin).
const ADA = { email: 'ada@support.test', password: 'a long password for the team test', name: 'Local admin' };
const BO = { email: 'bo@support.test', password: 'another long password for the team test', name: 'Bo Berg' };

let stack;
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

// A local stack of its own; resolves once it prints its DynamoDB endpoint (its last line).
async function startStack() {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), TABLE_NAME: TABLE,
    LOCAL_ADMIN_EMAIL: ADA.email, LOCAL_ADMIN_PASSWORD: ADA.password };
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
  return { child, url: `http://127.0.0.1:${port}`, dynamodb };
}

// `chat-admin create`, against the stack's table, with the password on standard input.
function createAgent(agent) {
  execFileSync(join(targetDir, 'debug', 'chat-admin'), ['create', '--email', agent.email, '--name', agent.name, '--password-stdin'], {
    input: `${agent.password}\n`,
    env: { ...process.env, TABLE_NAME: TABLE, AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodb,
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
}

async function call(method, path, body, headers = {}) {
  const response = await fetch(stack.url + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startStack();
  createAgent(BO);
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

// A signed-in dashboard in a browser context of its own (its own sessionStorage).
async function dashboardOf(agent) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  // Refused requests (the 409 of a refused reply) log "Failed to load resource"; anything
  // else, such as a script error or a CSP violation, is a problem.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${stack.url}/v1/admin`);
  await page.getByLabel('Email').fill(agent.email);
  await page.getByLabel('Password').fill(agent.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#agent-name', { hasText: agent.name }).waitFor();
  return { context, page, problems };
}

test('one agent claims, the other sees it and is refused, a transfer hands it over', { timeout: 120_000 }, async () => {
  const created = await call('POST', '/api/chat/session', { userInfo: { name: 'Maria Lopez', email: 'maria@example.com' } });
  assert.equal(created.status, 200);
  const { sessionId, clientToken } = created.body.data;
  const client = { 'X-Chat-Token': clientToken };
  await call('POST', '/api/chat/message', { sessionId, message: 'Where is my parcel?', sender: 'user' }, client);

  const ada = await dashboardOf(ADA);
  const bo = await dashboardOf(BO);
  const rowOf = (page) => page.locator('#session-list button', { hasText: 'Maria Lopez' });

  // Nobody holds it yet; Ada claims it from the chat header.
  assert.match(await rowOf(ada.page).innerText(), /Unassigned/);
  await rowOf(ada.page).click();
  await ada.page.locator('#holder', { hasText: 'Nobody holds this chat.' }).waitFor();
  await ada.page.getByRole('button', { name: 'Claim', exact: true }).click();
  await ada.page.locator('#holder', { hasText: 'You hold this chat.' }).waitFor();
  await rowOf(ada.page).locator('.holder', { hasText: 'Yours' }).waitFor();

  // Bo's list shows who holds it (on its next refresh); in the chat he may neither claim nor
  // transfer it, and his reply is refused, kept, and not delivered.
  await rowOf(bo.page).locator('.holder', { hasText: `Held by ${ADA.name}` }).waitFor({ timeout: 10_000 });
  await rowOf(bo.page).click();
  await bo.page.locator('#holder', { hasText: `${ADA.name} holds this chat.` }).waitFor();
  assert.equal(await bo.page.getByRole('button', { name: 'Claim', exact: true }).isVisible(), false);
  assert.equal(await bo.page.getByRole('button', { name: 'Transfer', exact: true }).isVisible(), false);
  const boBox = bo.page.getByLabel('Your reply');
  await boBox.fill('I can help too!');
  await boBox.press('Enter');
  await bo.page.locator('#reply-error', { hasText: `Not sent: ${ADA.name} holds this chat.` }).waitFor();
  assert.equal(await boBox.inputValue(), 'I can help too!');
  assert.equal(await bo.page.getByRole('button', { name: 'Send anyway' }).isVisible(), true);
  const polled = await call('GET', `/api/chat/poll/${sessionId}`, undefined, client);
  assert.deepEqual(polled.body.data.messages, [], 'the refused reply was not delivered');

  // The filters: not Bo's, not unassigned; Ada's own.
  await bo.page.getByRole('button', { name: 'Mine', exact: true }).click();
  await rowOf(bo.page).waitFor({ state: 'detached' });
  await bo.page.getByRole('button', { name: 'Unassigned', exact: true }).click();
  await bo.page.locator('#sessions-empty').waitFor();
  assert.equal(await rowOf(bo.page).count(), 0);
  await ada.page.getByRole('button', { name: 'Mine', exact: true }).click();
  await ada.page.locator('#list-filter button[aria-pressed="true"]', { hasText: 'Mine' }).waitFor();
  await rowOf(ada.page).waitFor();
  await bo.page.getByRole('button', { name: 'All', exact: true }).click();
  await rowOf(bo.page).waitFor();

  // Ada hands the chat to Bo: his header says so by itself, and now his reply goes through.
  await ada.page.getByLabel('Transfer to').selectOption({ label: BO.name });
  await ada.page.getByRole('button', { name: 'Transfer', exact: true }).click();
  await ada.page.locator('#holder', { hasText: `${BO.name} holds this chat.` }).waitFor();
  await rowOf(ada.page).waitFor({ state: 'detached' }); // no longer among Ada's own
  await bo.page.locator('#holder', { hasText: 'You hold this chat.' }).waitFor({ timeout: 10_000 });
  await boBox.press('Enter');
  await bo.page.locator('#transcript li.admin', { hasText: 'I can help too!' }).waitFor();
  await bo.page.screenshot({ path: join(artifacts, 'team.png'), fullPage: false });
  const delivered = await call('GET', `/api/chat/poll/${sessionId}`, undefined, client);
  assert.deepEqual(delivered.body.data.messages.map((m) => m.message), ['I can help too!']);

  assert.deepEqual(ada.problems, [], 'no script errors or CSP violations (Ada)');
  assert.deepEqual(bo.problems, [], 'no script errors or CSP violations (Bo)');
  await ada.context.close();
  await bo.context.close();
});
