// The dashboard as a support agent uses it, in headless Chromium, against the local stack
// (the `make dev` binary on a free port): sign in, see the waiting customer, read, reply, end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AGENT, DESKTOP, agentToken, apiAt, artifacts, callAt, launchBrowser, openChat, refusePush, signIn,
  startStack, stopStack, watchProblems,
} from './support.mjs';

let stack;
let base;
let call;
let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startStack();
  base = stack.url;
  call = apiAt(base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopStack(stack);
});

// Runs `task` over `items` with `workers` of them in flight, results in the items' order. Few:
// the local DynamoDB server answers one request at a time, and a request queued behind many
// others would pass the API's 1.5 s attempt budget and be answered 503.
async function inParallel(items, workers, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

// The session ids of a listing, in the API's order, following nextCursor to the end.
async function listedIds(url, token, filter = '') {
  const ids = [];
  let cursor = null;
  do {
    const query = `limit=100${filter}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await callAt(url, 'GET', `/api/admin/chat/active-sessions?${query}`, undefined, { Authorization: `Bearer ${token}` });
    assert.equal(page.status, 200, JSON.stringify(page.body));
    ids.push(...page.body.data.sessions.map((s) => s.sessionId));
    cursor = page.body.data.nextCursor;
  } while (cursor);
  return ids;
}

const shownIds = (page) => page.locator('#session-list button').evaluateAll((buttons) => buttons.map((b) => b.dataset.sessionId));

test('an agent signs in, answers a waiting customer and ends the chat', { timeout: 120_000 }, async () => {
  // A customer starts a chat from the app and asks something.
  const { sessionId, client } = await openChat(base, { name: 'Maria Lopez', email: 'maria@example.com' }, 'My order #1234 has not arrived');

  const page = await browser.newPage({ viewport: DESKTOP });
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  // Refused requests (the wrong password, the aborted send) are not problems.
  const problems = watchProblems(page);

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
  await signIn(page, `${base}/admin`);
  await page.locator('#sessions-heading').waitFor();
  assert.ok(requests.includes('/admin/app.css'), requests.join(', '));
  assert.ok(requests.includes('/api/admin/auth/login'), requests.join(', '));
  assert.deepEqual(requests.filter((path) => path.startsWith('/v1/')), [], 'nothing under the stage path');
  await page.close();
});

test('a new chat is announced while the agent works', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  await signIn(page, `${base}/admin`);
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

test('with 150 active chats the longest wait is on the first screen and "Load more" reaches every chat', { timeout: 180_000 }, async () => {
  // A stack of its own, so that the count and the waiting order are exactly this test's.
  const crowded = await startStack({ TABLE_NAME: 'browser-test-crowded' });
  try {
    const startChat = async (name, question) => (await openChat(crowded.url, { name }, question, '/v1')).sessionId;
    // The first customer asks first, so waits longest, and has the oldest chat: the last one a
    // newest-first list reaches. Of the other 149, three in four ask something too (more
    // waiting customers than one page of the API holds), the rest only open the chat.
    const longest = await startChat('Longest Wait', 'I have been waiting the longest');
    const others = await inParallel([...Array(149).keys()], 4,
      (i) => startChat(`Customer ${i + 1}`, i % 4 === 3 ? null : `Question ${i + 1}`));
    const everyone = [longest, ...others];

    const token = await agentToken(crowded.url, AGENT, '/v1');
    const waiting = await listedIds(crowded.url, token, '&waiting=true');
    const newestFirst = await listedIds(crowded.url, token);
    assert.equal(waiting[0], longest, 'the API puts the longest wait first');
    assert.ok(waiting.length > 100, `${waiting.length} waiting: more than one API page`);
    const notWaiting = newestFirst.filter((id) => !waiting.includes(id));

    const page = await browser.newPage({ viewport: DESKTOP });
    const problems = watchProblems(page);
    // Without push the list is re-read every 5 s: the refresh this test checks.
    await refusePush(page);
    await signIn(page, `${crowded.url}/v1/admin`);
    await page.locator('#session-count', { hasText: '150' }).waitFor();

    // The longest-waiting customer is the first entry, on screen without scrolling anything.
    const first = page.locator('#session-list button').first();
    assert.equal(await first.getAttribute('data-session-id'), longest);
    assert.match(await first.innerText(), /Longest Wait[\s\S]*Waiting .* for a reply/);
    const place = await first.evaluate((button) => {
      const list = document.querySelector('.sessions');
      const box = button.getBoundingClientRect();
      const frame = list.getBoundingClientRect();
      return { box: { top: box.top, bottom: box.bottom, left: box.left, right: box.right },
        frame: { top: frame.top, bottom: frame.bottom }, listScroll: list.scrollTop,
        pageScroll: window.scrollY, width: window.innerWidth, height: window.innerHeight };
    });
    assert.equal(await page.locator('#session-count').innerText(), '150 active');
    assert.equal(place.pageScroll, 0);
    assert.equal(place.listScroll, 0);
    assert.ok(place.box.top >= place.frame.top && place.box.bottom <= Math.min(place.frame.bottom, place.height)
      && place.box.left >= 0 && place.box.right <= place.width, JSON.stringify(place));

    // Every waiting customer first, in the API's order (past its first page), then the newest
    // of the others; not all of them yet.
    let shown = await shownIds(page);
    assert.deepEqual(shown.slice(0, waiting.length), waiting);
    let rest = shown.slice(waiting.length);
    assert.ok(rest.length > 0 && rest.length < notWaiting.length, `${rest.length} of ${notWaiting.length} others shown`);
    assert.deepEqual(rest, notWaiting.slice(0, rest.length));
    assert.match(await page.locator('#sessions-shown').innerText(), new RegExp(`Showing ${shown.length} of 150 active chats`));

    // "Load more" shows older chats, moves focus to the first of them, and ends with everyone,
    // each once, the waiting ones still first.
    const loadMore = page.getByRole('button', { name: 'Load more' });
    let clicks = 0;
    while (await loadMore.isVisible()) {
      const before = shown.length;
      await loadMore.click();
      clicks += 1;
      await page.waitForFunction((count) => document.querySelectorAll('#session-list button').length > count, before);
      shown = await shownIds(page);
      const focused = await page.evaluate(() => document.activeElement.dataset.sessionId);
      assert.equal(focused, shown[before], 'focus on the first newly loaded chat');
      assert.ok(clicks < 10, 'the list ends');
    }
    assert.deepEqual(shown.slice(0, waiting.length), waiting);
    assert.deepEqual(shown.slice(waiting.length), notWaiting);
    assert.deepEqual([...shown].sort(), [...everyone].sort());
    assert.equal(await page.locator('#sessions-shown').innerText(), '');

    // The 5 s refresh keeps what was loaded: the list is rebuilt, and still holds everyone.
    await page.locator('#session-list button').first().evaluate((button) => { button.dataset.probe = 'before the refresh'; });
    await page.waitForFunction(() => !document.querySelector('#session-list button[data-probe]'), undefined, { timeout: 10_000 });
    assert.equal((await shownIds(page)).length, 150);
    assert.equal(await loadMore.isVisible(), false);
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await page.close();
  } finally {
    await stopStack(crowded);
  }
});

test('an ended chat says why: the customer left, or stopped answering', { timeout: 120_000 }, async () => {
  // A stack that ends chats after 3 s without a poll or a send, checking every second.
  const quick = await startStack({ TABLE_NAME: 'browser-test-idle', IDLE_TIMEOUT_SECONDS: '3', SWEEP_INTERVAL_SECONDS: '1' });
  const alive = new Map();
  try {
    const api = apiAt(quick.url);
    const customer = async (name) => {
      const { sessionId, client: headers } = await openChat(quick.url, { name }, `Hello from ${name}`);
      // The app polls while it is open; that keeps the chat going until the test stops it.
      alive.set(sessionId, setInterval(() => api('GET', `/api/chat/poll/${sessionId}`, undefined, headers).catch(() => {}), 500));
      return { sessionId, headers };
    };
    const quiet = (sessionId) => clearInterval(alive.get(sessionId));
    const leaver = await customer('Lena Leaves');
    const sleeper = await customer('Ivan Idle');

    const page = await browser.newPage({ viewport: DESKTOP });
    const problems = watchProblems(page);
    await signIn(page, `${quick.url}/admin`);

    // The customer leaves while the agent reads the chat.
    await page.locator('#session-list button', { hasText: 'Lena Leaves' }).click();
    await page.locator('#transcript li.user', { hasText: 'Hello from Lena Leaves' }).waitFor();
    quiet(leaver.sessionId);
    const left = await api('POST', '/api/chat/session/end', { sessionId: leaver.sessionId }, leaver.headers);
    assert.equal(left.status, 200, JSON.stringify(left.body));
    await page.locator('#chat-status', { hasText: 'This chat ended by the customer' }).waitFor({ timeout: 10_000 });

    // The other one closes the app: the chat ends by itself, and the agent is told why.
    await page.locator('#session-list button', { hasText: 'Ivan Idle' }).click();
    await page.locator('#transcript li.user', { hasText: 'Hello from Ivan Idle' }).waitFor();
    quiet(sleeper.sessionId);
    await page.locator('#chat-status', { hasText: 'This chat ended after inactivity' }).waitFor({ timeout: 20_000 });
    await page.locator('#session-list button', { hasText: 'Ivan Idle' }).waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.getByRole('button', { name: 'End chat' }).isVisible(), false);
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await page.close();
  } finally {
    alive.forEach((timer) => clearInterval(timer));
    await stopStack(quick);
  }
});
