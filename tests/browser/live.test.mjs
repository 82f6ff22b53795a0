// The dashboard on the push channel, end to end: real Chromium, two agents in two browser
// contexts, customers through the REST API and the reference push client, against the local
// stack (its WebSocket API and stream consumer). The stories: a new chat reaches every dashboard
// without a list read; the holder sees the customer's messages as they come; a tab in the
// background is told once per chat; a killed socket falls back to polling and recovers with
// nothing lost or shown twice; notifications denied, everything else still works; and how many
// requests an idle dashboard makes in 10 minutes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentToken, apiAt, createAgent, DESKTOP, launchBrowser, openChat, openPushPage, refusePush, refuseTicket,
  signIn, startPushClient, startStack, stopStack, watchProblems,
} from './support.mjs';

const SECOND = { email: 'second@support.test', password: 'another long password for the test', name: 'Sam Second' };
const API = '/api/';
const LIST_READ = '/api/admin/chat/active-sessions';
const TRANSCRIPT_READ = '/api/admin/chat/messages/';

let stack;
let call;
let browser;
let first;
let second;

before(async () => {
  stack = await startStack();
  createAgent(stack, SECOND);
  call = apiAt(stack.url);
  browser = await launchBrowser();
  first = { Authorization: `Bearer ${await agentToken(stack.url)}` };
  second = { Authorization: `Bearer ${await agentToken(stack.url, SECOND)}` };
});

after(async () => {
  await browser?.close();
  await stopStack(stack);
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Installed before the page's own scripts: whether the tab is looked at (`window.attention`,
// which the test changes), a Notification API that records what the page shows, and an audio
// context that counts the tones it plays. Chromium's own would need a desktop to show them.
function fakeBrowserSurroundings({ hidden, permission, answer }) {
  window.attention = { hidden };
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (window.attention.hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.attention.hidden });
  Document.prototype.hasFocus = () => !window.attention.hidden;
  window.shownNotifications = [];
  window.permissionRequests = 0;
  class RecordedNotification {
    static permission = permission;
    static async requestPermission() {
      window.permissionRequests += 1;
      RecordedNotification.permission = answer;
      return answer;
    }
    constructor(title, options = {}) {
      Object.assign(this, { title, body: options.body, tag: options.tag, open: true });
      window.shownNotifications.push(this);
    }
    close() {
      this.open = false;
      this.onclose?.();
    }
  }
  window.Notification = RecordedNotification;
  window.tones = 0;
  window.AudioContext = class {
    currentTime = 0;
    destination = {};
    createOscillator() {
      window.tones += 1;
      return { frequency: {}, connect: (node) => node, start() {}, stop() {} };
    }
    createGain() {
      return { gain: {}, connect: (node) => node };
    }

    resume() {
      return Promise.resolve();
    }
  };
}

// An agent's dashboard in a context of its own, signed in and live. Every API request it makes
// is recorded with the time it was made.
// `sockets`: an array that gets each of the page's WebSockets, passed through the test so that
// it can cut them; `withoutPush`: every ticket answered 503, so the page never goes live.
async function dashboardOf(agent, {
  hidden = false, permission = 'granted', answer = 'granted', prefix = '/v1', clock = false, sockets = null, withoutPush = false,
} = {}) {
  const context = await browser.newContext({ viewport: DESKTOP });
  await context.addInitScript(fakeBrowserSurroundings, { hidden, permission, answer });
  const page = await context.newPage();
  if (sockets) {
    await page.routeWebSocket((url) => url.protocol === 'ws:', (socket) => {
      socket.connectToServer();
      sockets.push(socket);
    });
  }
  if (withoutPush) await refusePush(page);
  const problems = watchProblems(page);
  const requests = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.includes(API)) requests.push({ path: url.pathname, at: Date.now() });
  });
  if (clock) await page.clock.install();
  await signIn(page, `${stack.url}${prefix}/admin`, agent);
  if (!withoutPush) await page.locator('#live-state[data-state="live"]').waitFor({ timeout: 15_000 });
  return { page, problems, requests, close: () => context.close() };
}

const since = (requests, at, path) => requests.filter((r) => r.at >= at && r.path.includes(path));
const rowOf = (page, name) => page.locator('#session-list button', { hasText: name });
const transcriptTexts = (page) => page.locator('#transcript li').evaluateAll((items) => items.map((li) => li.lastChild.textContent));
const notifications = (page) => page.evaluate(() => window.shownNotifications.map((n) => ({ title: n.title, body: n.body, tag: n.tag, open: n.open })));

async function customerSays(chat, text) {
  const sent = await call('POST', '/api/chat/message', { sessionId: chat.sessionId, message: text, sender: 'user' }, chat.client);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
}

async function agentDoes(headers, path, body) {
  const done = await call('POST', path, body, headers);
  assert.equal(done.status, 200, JSON.stringify(done.body));
}

test('a new chat appears on both dashboards without a list read; the holder sees each customer message as it comes', { timeout: 90_000 }, async (t) => {
  const one = await dashboardOf(undefined);
  const two = await dashboardOf(SECOND);
  const customerPage = await openPushPage(browser, stack.url);
  try {
    await sleep(500); // the catch-up reads that follow "live"
    const quiet = Date.now();
    const chat = await openChat(stack.url, { name: 'Nora Newcomer' }, 'Is anyone there?');
    await rowOf(one.page, 'Nora Newcomer').waitFor({ timeout: 5_000 });
    await rowOf(two.page, 'Nora Newcomer').waitFor({ timeout: 5_000 });
    assert.deepEqual(since(one.requests, quiet, LIST_READ), [], 'no list read on the first dashboard');
    assert.deepEqual(since(two.requests, quiet, LIST_READ), [], 'no list read on the second dashboard');
    await rowOf(one.page, 'Nora Newcomer').locator('.wait').waitFor();

    // The first agent opens and claims it; the customer's app listens through the reference client.
    await rowOf(one.page, 'Nora Newcomer').click();
    await one.page.getByRole('button', { name: 'Claim' }).click();
    await one.page.locator('#holder', { hasText: 'You hold this chat.' }).waitFor();
    await rowOf(two.page, 'Nora Newcomer').locator('.holder', { hasText: 'Held by' }).waitFor({ timeout: 5_000 });
    await startPushClient(customerPage.page, 1_000, { role: 'customer', sessionId: chat.sessionId, chatToken: chat.client['X-Chat-Token'] });
    await customerPage.page.waitForFunction(() => window.client.state === 'push', null, { timeout: 15_000 });
    await sleep(500);

    // Messages in a burst (one every 250 ms) and at a conversation's pace (one every 2.5 s): each
    // on the holder's screen once, in order, with no transcript read. The time from the send to
    // the screen is logged (the test asserts no time).
    await one.page.evaluate(() => {
      window.arrivals = {};
      new MutationObserver(() => {
        for (const li of document.querySelectorAll('#transcript li')) window.arrivals[li.lastChild.textContent] ??= Date.now();
      }).observe(document.getElementById('transcript'), { childList: true });
    });
    const reading = Date.now();
    const sent = [];
    for (const [pace, count, gapMs] of [['burst', 12, 250], ['conversation', 6, 2_500]]) {
      await sleep(2_500); // each pace starts after a list hint's interval, not inside the last one's
      const times = {};
      for (let i = 1; i <= count; i += 1) {
        const text = `Question ${pace} ${i}`;
        times[text] = Date.now();
        sent.push(text);
        await customerSays(chat, text);
        await sleep(gapMs);
      }
      await one.page.locator('#transcript li', { hasText: `Question ${pace} ${count}` }).waitFor({ timeout: 5_000 });
      const arrivals = await one.page.evaluate(() => window.arrivals);
      const delays = Object.entries(times).map(([text, at]) => arrivals[text] - at).sort((a, b) => a - b);
      const pick = (q) => delays[Math.min(delays.length - 1, Math.ceil(q * delays.length) - 1)];
      t.diagnostic(`send to the holder's screen, ${pace} (one message every ${gapMs} ms), ${delays.length} messages: p50 ${pick(0.5)} ms, p99 ${pick(0.99)} ms`);
    }
    await sleep(1_500);
    assert.deepEqual(await transcriptTexts(one.page), ['Is anyone there?', ...sent], 'each message once, in order');
    // Pushed, not read: the only reads are the ones that tell the customer "seen" (at most one
    // a second), and the customer's app sees every message seen.
    const reads = since(one.requests, reading, TRANSCRIPT_READ).length;
    assert.ok(reads < sent.length, `${reads} transcript reads for ${sent.length} messages`);
    const polled = await call('GET', `/api/chat/poll/${chat.sessionId}`, undefined, chat.client);
    const lastId = await one.page.locator('#transcript li').last().getAttribute('data-message-id');
    assert.equal(polled.body.data.supportReadUpTo, lastId, 'the customer sees the last message seen');

    // The holder's reply reaches the customer's app by push.
    await one.page.getByLabel('Your reply').fill('Yes, how can I help?');
    await one.page.getByRole('button', { name: 'Send', exact: true }).click();
    await customerPage.page.waitForFunction(() => window.push.messages.some((m) => m.message === 'Yes, how can I help?'), null, { timeout: 5_000 });
    assert.deepEqual(one.problems, []);
    assert.deepEqual(two.problems, []);
  } finally {
    await Promise.all([one.close(), two.close(), customerPage.close()]);
  }
});

test('a tab in the background: one notification per chat, replaced not stacked, the waiting count in the title, nothing for others\' chats or own actions', { timeout: 90_000 }, async () => {
  const away = await dashboardOf(undefined, { hidden: true });
  const { page } = away;
  try {
    await page.getByRole('button', { name: 'Sound' }).click();
    await page.evaluate(() => { window.tones = 0; });
    const ada = await openChat(stack.url, { name: 'Ada Asker' }, 'My card was charged twice');
    await page.waitForFunction(() => window.shownNotifications.length === 1, null, { timeout: 5_000 });
    await page.waitForFunction(() => document.title === '(1) Support chat dashboard');
    await customerSays(ada, 'Hello?');
    await customerSays(ada, 'Anyone?');
    await page.waitForFunction(() => window.shownNotifications.at(-1).body === 'Anyone?', null, { timeout: 5_000 });
    const bo = await openChat(stack.url, { name: 'Bo Browser' }, 'Where is my order?');
    await page.waitForFunction(() => document.title === '(2) Support chat dashboard', null, { timeout: 5_000 });
    let open = (await notifications(page)).filter((n) => n.open);
    assert.deepEqual(open.map((n) => n.tag).sort(), [`chat-${ada.sessionId}`, `chat-${bo.sessionId}`].sort(), 'one open notification per chat');
    assert.equal(open.find((n) => n.tag === `chat-${ada.sessionId}`).title, 'New message from Ada Asker');
    assert.ok(await page.evaluate(() => window.tones) >= 2, 'the sound the agent turned on');

    // Bo's chat is taken by the other agent: no more news of it, and it leaves the count. Ada's
    // chat gets this agent's own reply: nothing announced for it either.
    const shownBefore = (await notifications(page)).length;
    await agentDoes(second, '/api/admin/chat/claim', { sessionId: bo.sessionId });
    await customerSays(bo, 'Still there?');
    await agentDoes(first, '/api/admin/chat/message', { sessionId: ada.sessionId, message: 'Checking now.', sender: 'admin' });
    await page.waitForFunction(() => document.title === 'Support chat dashboard', null, { timeout: 5_000 });
    await sleep(2_500); // a list hint's interval: anything announced would be by now
    assert.equal((await notifications(page)).length, shownBefore, 'nothing announced for a chat held by another or for an own reply');

    // A click on Ada's notification opens her chat.
    await page.evaluate((tag) => window.shownNotifications.find((n) => n.tag === tag && n.open).onclick(), `chat-${ada.sessionId}`);
    await page.locator('#chat-title', { hasText: 'Chat with Ada Asker' }).waitFor();
    open = (await notifications(page)).filter((n) => n.open);
    assert.ok(!open.some((n) => n.tag === `chat-${ada.sessionId}`), 'withdrawn once opened');
    // Back in the tab: what was announced is withdrawn.
    await page.evaluate(() => {
      window.attention.hidden = false;
      document.dispatchEvent(new Event('visibilitychange'));
    });
    assert.deepEqual((await notifications(page)).filter((n) => n.open), []);
    assert.deepEqual(away.problems, []);
  } finally {
    await away.close();
  }
});

test('the socket is killed mid-chat: the page falls back to polling, then recovers, with every message shown once', { timeout: 90_000 }, async () => {
  const sockets = [];
  const one = await dashboardOf(undefined, { sockets });
  const { page } = one;
  let refuseTickets = false;
  await page.route('**/api/admin/realtime/ticket', (route) => (refuseTickets ? refuseTicket(route) : route.continue()));
  try {
    const chat = await openChat(stack.url, { name: 'Kai Killed' }, 'First question');
    await rowOf(page, 'Kai Killed').click();
    await page.getByRole('button', { name: 'Claim' }).click();
    await page.locator('#holder', { hasText: 'You hold this chat.' }).waitFor();
    await customerSays(chat, 'Second question');
    await page.locator('#transcript li', { hasText: 'Second question' }).waitFor({ timeout: 5_000 });

    refuseTickets = true;
    const cut = Date.now();
    await Promise.all(sockets.map((socket) => socket.close()));
    // Without a socket and refused new ones, the page polls and says so.
    await page.locator('#live-state[data-state="polling"]', { hasText: 'Updates every few seconds' }).waitFor({ timeout: 20_000 });
    await customerSays(chat, 'Third question');
    await customerSays(chat, 'Fourth question');
    await page.locator('#transcript li', { hasText: 'Fourth question' }).waitFor({ timeout: 10_000 });
    assert.ok(since(one.requests, cut, LIST_READ).length > 0, 'the list is read while polling');

    // The network is back: live again at once, not after the 60 s retry.
    refuseTickets = false;
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.locator('#live-state[data-state="live"]').waitFor({ timeout: 10_000 });
    await customerSays(chat, 'Fifth question');
    await page.locator('#transcript li', { hasText: 'Fifth question' }).waitFor({ timeout: 5_000 });
    await sleep(1_500);
    assert.deepEqual(await transcriptTexts(page), ['First question', 'Second question', 'Third question', 'Fourth question', 'Fifth question']);
    assert.deepEqual(one.problems, []);
  } finally {
    await one.close();
  }
});

test('notifications denied, at /admin: no notification, no prompt, and the list, the chat and the title count still work', { timeout: 60_000 }, async () => {
  const denied = await dashboardOf(undefined, { hidden: true, permission: 'denied', prefix: '' });
  const { page } = denied;
  try {
    assert.equal(await page.getByRole('button', { name: 'Turn on notifications' }).isHidden(), true);
    await page.locator('#notify-state', { hasText: 'blocked' }).waitFor();
    const chat = await openChat(stack.url, { name: 'Dee Denied' }, 'Help please', '');
    await rowOf(page, 'Dee Denied').waitFor({ timeout: 5_000 });
    await page.waitForFunction(() => /^\(\d+\) Support chat dashboard$/.test(document.title));
    await rowOf(page, 'Dee Denied').click();
    await customerSays(chat, 'Are you there?');
    await page.locator('#transcript li', { hasText: 'Are you there?' }).waitFor({ timeout: 5_000 });
    assert.deepEqual(await notifications(page), []);
    assert.equal(await page.evaluate(() => window.permissionRequests), 0);
    assert.deepEqual(denied.problems, []);
  } finally {
    await denied.close();
  }

  // Not yet decided: never asked on load, asked on the agent's click.
  const undecided = await dashboardOf(SECOND, { permission: 'default', answer: 'granted' });
  try {
    assert.equal(await undecided.page.evaluate(() => window.permissionRequests), 0, 'no prompt on load');
    await undecided.page.getByRole('button', { name: 'Turn on notifications' }).click();
    await undecided.page.locator('#notify-state', { hasText: 'Notifications on' }).waitFor();
    assert.equal(await undecided.page.evaluate(() => window.permissionRequests), 1);
  } finally {
    await undecided.close();
  }
});

// 10 minutes of an open, idle dashboard on the page's clock (Playwright's), run forward a second
// at a time so that each request can finish before the next timer is due.
async function idleTenMinutes(page) {
  for (let second = 0; second < 600; second += 1) {
    await page.clock.runFor(1_000);
    await sleep(15);
  }
}

test('an idle open dashboard makes fewer than 15 requests in 10 minutes while live (it polled about 420 before)', { timeout: 180_000 }, async (t) => {
  const chat = await openChat(stack.url, { name: 'Ida Idle' }, 'Just one question');
  const live = await dashboardOf(undefined, { clock: true });
  try {
    await rowOf(live.page, 'Ida Idle').click();
    await live.page.locator('#transcript li', { hasText: 'Just one question' }).waitFor();
    await sleep(1_000);
    const from = live.requests.length;
    await idleTenMinutes(live.page);
    const made = live.requests.slice(from).map((r) => r.path.replace(chat.sessionId, '{id}'));
    t.diagnostic(`live: ${made.length} requests in 10 minutes: ${JSON.stringify(made)}`);
    assert.ok(made.length < 15, `${made.length} requests`);
    assert.equal(await live.page.locator('#live-state').getAttribute('data-state'), 'live');
    assert.deepEqual(live.problems, []);
  } finally {
    await live.close();
  }

  // The same with push refused: the page polls as it did before the push channel.
  const polling = await dashboardOf(undefined, { clock: true, withoutPush: true });
  try {
    await rowOf(polling.page, 'Ida Idle').click();
    await polling.page.locator('#transcript li', { hasText: 'Just one question' }).waitFor();
    const from = polling.requests.length;
    await idleTenMinutes(polling.page);
    const made = polling.requests.slice(from);
    const count = (path) => made.filter((r) => r.path.includes(path)).length;
    t.diagnostic(`push refused: ${made.length} requests in 10 minutes (${count(LIST_READ)} list reads, ${count(TRANSCRIPT_READ)} transcript reads, ${count('/realtime/ticket')} tickets)`);
    assert.equal(await polling.page.locator('#live-state').getAttribute('data-state'), 'polling');
    assert.ok(count(TRANSCRIPT_READ) > 200, 'the open chat is read every 2 s');
    assert.ok(count(LIST_READ) > 100, 'the list every 5 s');
  } finally {
    await polling.close();
  }
});
