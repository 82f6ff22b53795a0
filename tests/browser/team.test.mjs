// Two support agents, each in a browser context of their own, on one local stack: one claims a
// chat, the other sees who holds it and is refused when replying (and may send anyway), the
// list filters by holder, and a transfer hands the chat over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DESKTOP, apiAt, artifacts, createAgent, launchBrowser, openChat, signIn, startStack, stopStack,
  watchProblems,
} from './support.mjs';

// The stack's own agent (LOCAL_ADMIN_*), and a second one created as ops do (chat-admin).
const ADA = { email: 'ada@support.test', password: 'a long password for the team test', name: 'Local admin' };
const BO = { email: 'bo@support.test', password: 'another long password for the team test', name: 'Bo Berg' };

let stack;
let call;
let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startStack({ TABLE_NAME: 'team-browser-test' }, ADA);
  call = apiAt(stack.url);
  createAgent(stack, BO);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopStack(stack);
});

// A signed-in dashboard in a browser context of its own (its own sessionStorage).
async function dashboardOf(agent) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  // Refused requests (the 409 of a refused reply) are not problems.
  const problems = watchProblems(page);
  await signIn(page, `${stack.url}/v1/admin`, agent);
  await page.locator('#agent-name', { hasText: agent.name }).waitFor();
  return { context, page, problems };
}

test('one agent claims, the other sees it and is refused, a transfer hands it over', { timeout: 120_000 }, async () => {
  const { sessionId, client } = await openChat(stack.url, { name: 'Maria Lopez', email: 'maria@example.com' }, 'Where is my parcel?');

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
