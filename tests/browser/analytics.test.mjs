// The analytics panel against a scripted set of chats, and axe-core on every dashboard view
// (sign-in, list, chat, panel) at desktop and phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DESKTOP, PHONE, agentToken, artifacts, assertAccessible, callAt, launchBrowser, openChat,
  signIn, startStack, stopStack, watchProblems,
} from './support.mjs';

let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

// An agent's API calls and a customer's, on one stack.
function actors(url) {
  let admin = {};
  return {
    async signIn() {
      admin = { Authorization: `Bearer ${await agentToken(url)}` };
    },
    async start(name, isGuest) {
      return openChat(url, { name, isGuest });
    },
    async customerSays(chat, message) {
      const sent = await callAt(url, 'POST', '/api/chat/message', { sessionId: chat.sessionId, message, sender: 'user' }, chat.client);
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    },
    async agentSays(chat, message) {
      const sent = await callAt(url, 'POST', '/api/admin/chat/message', { sessionId: chat.sessionId, message, sender: 'admin' }, admin);
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    },
    async leave(chat) {
      const left = await callAt(url, 'POST', '/api/chat/session/end', { sessionId: chat.sessionId }, chat.client);
      assert.equal(left.status, 200, JSON.stringify(left.body));
    },
    async agentEnds(chat) {
      const ended = await callAt(url, 'POST', '/api/admin/chat/session/end', { sessionId: chat.sessionId }, admin);
      assert.equal(ended.status, 200, JSON.stringify(ended.body));
    },
    async rate(chat, rating) {
      const rated = await callAt(url, 'POST', '/api/chat/rating', { sessionId: chat.sessionId, rating }, chat.client);
      assert.equal(rated.status, 200, JSON.stringify(rated.body));
    },
    // How the chat ended (null while active), read without touching the customer's presence.
    async endReason(chat) {
      const read = await callAt(url, 'GET', `/api/admin/chat/messages/${chat.sessionId}`, undefined, admin);
      return read.body.data.session.endReason;
    },
    async summary(query) {
      const read = await callAt(url, 'GET', `/api/admin/analytics/summary?${query}`, undefined, admin);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      return read.body.data;
    },
  };
}

const today = () => new Date().toISOString().slice(0, 10);

test('the panel shows the numbers of a scripted set of chats and refreshes every five minutes', { timeout: 120_000 }, async () => {
  // Chats go idle after 6 s without the customer (the sweep runs every second).
  const stack = await startStack({ IDLE_TIMEOUT_SECONDS: '6', SWEEP_INTERVAL_SECONDS: '1' });
  try {
    const api = actors(stack.url);
    await api.signIn();
    // Ann is answered and then goes quiet; Ben, a guest, is answered, leaves and rates 5;
    // Cy's chat is ended by the agent and rated 3; Dee writes and goes quiet.
    const ann = await api.start('Ann', false);
    await api.customerSays(ann, 'Where is my parcel?');
    await api.agentSays(ann, 'Let me check.');
    const ben = await api.start('Ben', true);
    await api.customerSays(ben, 'Hello');
    await api.agentSays(ben, 'Hi Ben!');
    await api.leave(ben);
    await api.rate(ben, 5);
    const cy = await api.start('Cy', false);
    await api.agentEnds(cy);
    await api.rate(cy, 3);
    const dee = await api.start('Dee', false);
    await api.customerSays(dee, 'Anyone?');
    const chats = [ann, ben, cy, dee];
    const deadline = Date.now() + 60_000;
    let reasons = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      reasons = await Promise.all(chats.map((chat) => api.endReason(chat)));
    } while (reasons.includes(null) && Date.now() < deadline);
    assert.deepEqual(reasons, ['idle', 'user', 'admin', 'idle']);

    // The API's summary is what happened (all of it today, UTC).
    const week = await api.summary('');
    const { totals } = week;
    assert.equal(totals.sessionsCreated, 4);
    assert.equal(totals.guestSessions, 1);
    assert.deepEqual(totals.sessionsEnded, { byUser: 1, byAdmin: 1, idle: 2 });
    assert.deepEqual(totals.ratings, { count: 2, average: 4, distribution: { 1: 0, 2: 0, 3: 1, 4: 0, 5: 1 } });
    assert.equal(totals.firstResponseSeconds.count, 2);
    assert.equal(totals.messagesFromUsers, 3);
    assert.equal(totals.messagesFromSupport, 2);

    const page = await browser.newPage({ viewport: DESKTOP });
    const problems = watchProblems(page);
    await page.clock.install();
    await signIn(page, `${stack.url}/v1/admin`);
    const started = page.locator('#analytics-started');
    await page.locator('#analytics-started', { hasText: '4 (1 as guests)' }).waitFor({ timeout: 15_000 });
    // The chart: one bar per day of the last 7, today's the last, tall as its count.
    const bars = page.locator('#analytics-chart rect');
    assert.equal(await bars.count(), 7);
    assert.equal(await bars.last().getAttribute('data-date'), today());
    assert.equal(await bars.last().getAttribute('data-count'), '4');
    assert.equal(await page.locator('#analytics-chart title').first().textContent(), 'Chats started per day');
    assert.match(await page.locator('#analytics-chart-desc').textContent(), new RegExp(`${today()} 4\\.$`));
    // The figures as text, from the summary's own numbers.
    const p50 = totals.firstResponseSeconds.p50;
    assert.ok(p50 >= 5, `p50 ${p50}`);
    assert.match(await page.locator('#analytics-first-response').innerText(), new RegExp(`^At most ${p50 < 60 ? `${p50} s` : ''}`));
    assert.equal(await page.locator('#analytics-csat').innerText(), '4.0 of 5 (2 ratings)');
    assert.equal(await page.locator('#analytics-idle').innerText(), '50% (2 of 4 ended chats)');
    assert.equal(await page.locator('#analytics-ratings li[data-stars="5"] .label').innerText(), '5 stars: 1');
    assert.equal(await page.locator('#analytics-ratings li[data-stars="3"] .label').innerText(), '3 stars: 1');
    assert.equal(await page.locator('#analytics-ratings li[data-stars="1"] .label').innerText(), '1 star: 0');
    await page.screenshot({ path: join(artifacts, 'dashboard-analytics.png'), fullPage: false });

    // Today only, and 30 days.
    await page.getByLabel('Period (UTC days)').selectOption('1');
    await page.locator('#analytics-chart rect').nth(0).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#analytics-chart rect').length === 1);
    assert.equal(await started.innerText(), '4 (1 as guests)');
    await page.getByLabel('Period (UTC days)').selectOption('30');
    await page.waitForFunction(() => document.querySelectorAll('#analytics-chart rect').length === 30);

    // A new chat shows within the five minutes' refresh.
    await api.start('Eve', true);
    await page.clock.fastForward('05:01');
    await page.locator('#analytics-started', { hasText: '5 (2 as guests)' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await page.close();
  } finally {
    await stopStack(stack);
  }
});

test('every dashboard view passes axe-core at desktop and phone width', { timeout: 120_000 }, async () => {
  const stack = await startStack();
  try {
    const api = actors(stack.url);
    const chat = await api.start('Maria Lopez', false);
    await api.customerSays(chat, 'My order has not arrived');
    for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const page = await browser.newPage({ viewport });
      const problems = watchProblems(page);
      await page.goto(`${stack.url}/admin`);
      await page.getByLabel('Email').waitFor();
      await assertAccessible(page, `sign-in view (${width})`);

      await signIn(page, `${stack.url}/admin`);
      const entry = page.locator('#session-list button', { hasText: 'Maria Lopez' });
      await entry.waitFor();
      await page.locator('#analytics-started', { hasText: '1 (0 as guests)' }).waitFor();
      await assertAccessible(page, `list view with the analytics panel (${width})`);

      await entry.click();
      await page.locator('#transcript li.user', { hasText: 'My order has not arrived' }).waitFor();
      await assertAccessible(page, `chat view (${width})`);
      assert.deepEqual(problems, [], 'no script errors or CSP violations');
      await page.close();
    }
  } finally {
    await stopStack(stack);
  }
});
