// Signs of life and canned replies in the dashboard, in headless Chromium against a local stack
// of its own: the customer's typing shows under the transcript, the read tick appears once the
// customer's poll returned the reply, the agent's typing reaches the poll, and the canned-reply
// picker works by keyboard and inserts the text without sending it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, agentToken, apiAt, launchBrowser, openChat, signIn, startStack, stopStack, watchProblems,
} from './support.mjs';

const AGENT = { email: 'extras@support.test', password: 'a long password for the extras test' };

let stack;
let call;
let browser;

before(async () => {
  stack = await startStack({ TABLE_NAME: 'browser-extras' }, AGENT);
  call = apiAt(stack.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopStack(stack);
});

test('typing, read ticks and the canned-reply picker', { timeout: 120_000 }, async () => {
  // The team has two canned replies (made through the API).
  const admin = { Authorization: `Bearer ${await agentToken(stack.url, AGENT)}` };
  for (const [shortcut, text] of [['greet', 'Hello! Thanks for waiting.'], ['refund', 'Refunds take five days.']]) {
    const created = await call('POST', '/api/admin/canned-responses', { shortcut, text }, admin);
    assert.equal(created.status, 200, JSON.stringify(created.body));
  }

  // A customer asks something.
  const { sessionId, client } = await openChat(stack.url, { name: 'Kim Park' }, 'Where is my parcel?');
  const poll = () => call('GET', `/api/chat/poll/${sessionId}`, undefined, client);

  const page = await browser.newPage({ viewport: DESKTOP });
  const problems = watchProblems(page);
  const typingSignals = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/admin/chat/typing')) typingSignals.push(Date.now());
  });
  await signIn(page, `${stack.url}/v1/admin`, AGENT);
  await page.locator('#session-list button', { hasText: 'Kim Park' }).click();
  await page.locator('#transcript li.user', { hasText: 'Where is my parcel?' }).waitFor();

  // The agent opened the chat: the customer's poll says the question was seen.
  const seen = await poll();
  assert.equal(seen.body.data.supportReadUpTo, 'msg_000000000001');

  // The customer types: it shows under the transcript, and goes after 5 s.
  const typing = page.locator('#typing-line');
  assert.equal((await call('POST', '/api/chat/typing', { sessionId }, client)).status, 200);
  await typing.filter({ hasText: 'Kim Park is typing…' }).waitFor({ timeout: 10_000 });
  assert.equal(await typing.getAttribute('aria-live'), 'polite');
  await page.waitForFunction(() => document.getElementById('typing-line').textContent === '', null, { timeout: 12_000 });

  // `/` at the start of the reply box offers the shortcuts (an autocomplete list of the textbox).
  const box = page.getByRole('textbox', { name: 'Your reply' });
  const list = page.getByRole('listbox', { name: 'Canned replies' });
  await box.pressSequentially('/');
  await list.waitFor();
  assert.equal(await box.getAttribute('aria-controls'), 'canned-list');
  assert.deepEqual(await list.getByRole('option').allInnerTexts(),
    ['/greet\nHello! Thanks for waiting.', '/refund\nRefunds take five days.']);
  // Escape closes it and keeps the text.
  await box.press('Escape');
  await list.waitFor({ state: 'hidden' });
  assert.equal(await box.inputValue(), '/');
  assert.equal(await list.isVisible(), false);
  // Typing on narrows it; the arrows move the choice (and wrap), announced by aria-activedescendant.
  await box.press('Backspace');
  await box.pressSequentially('/re');
  await list.waitFor();
  assert.deepEqual(await list.getByRole('option').allInnerTexts(), ['/refund\nRefunds take five days.']);
  await box.press('Backspace');
  await box.press('Backspace');
  await page.waitForFunction(() => document.querySelectorAll('#canned-list [role="option"]').length === 2);
  await box.press('ArrowDown');
  const active = await box.getAttribute('aria-activedescendant');
  assert.equal(await page.locator(`#${active}`).innerText(), '/refund\nRefunds take five days.');
  assert.equal(await page.locator(`#${active}`).getAttribute('aria-selected'), 'true');
  await box.press('ArrowDown');
  await box.press('ArrowUp');
  await box.press('ArrowUp');
  assert.equal(await page.locator(`#${await box.getAttribute('aria-activedescendant')}`).innerText(),
    '/greet\nHello! Thanks for waiting.');
  // Enter inserts the text for editing and sends nothing.
  await box.press('Enter');
  await list.waitFor({ state: 'hidden' });
  assert.equal(await box.inputValue(), 'Hello! Thanks for waiting.');
  assert.equal(await page.locator('#transcript li.admin').count(), 0);
  assert.deepEqual((await poll()).body.data.messages, []);

  // While the agent composes, the customer's poll shows support typing; signals are throttled.
  await box.pressSequentially(' Checking now.');
  assert.equal((await poll()).body.data.supportTyping, true);
  const quick = typingSignals.filter((at) => at >= typingSignals[0] && at < typingSignals[0] + 2_500);
  assert.equal(quick.length, 1, `signals in the first 2.5 s: ${quick.length}`);

  // Enter now sends the edited text; no tick until the customer's poll has returned it.
  await box.press('Enter');
  const reply = page.locator('#transcript li.admin', { hasText: 'Hello! Thanks for waiting. Checking now.' });
  await reply.waitFor();
  await page.waitForTimeout(2_500); // at least one more transcript read
  assert.equal(await reply.locator('.tick').count(), 0);
  const delivered = await poll();
  assert.deepEqual(delivered.body.data.messages.map((m) => m.message), ['Hello! Thanks for waiting. Checking now.']);
  await reply.locator('.tick').waitFor({ timeout: 10_000 });
  assert.match(await reply.innerText(), /seen by the customer/);
  assert.deepEqual(problems, []);
  await page.close();
});
