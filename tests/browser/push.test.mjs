// The push channel end to end: the reference client as the dashboard serves it
// (functions/admin-dashboard/assets/push-client.js), run in headless Chromium with the browser's
// own WebSocket and fetch, against the local stack's WebSocket API (the `make dev` binary). The
// other side (customers, the agent) uses the REST API from here. Each test proves part of the
// push channel's promise: every event a client may see arrives, exactly once after dedupe,
// across reconnects and the fall back to polling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentToken, apiAt, launchBrowser, openChat, openPushPage, startPushClient, startStack, stopStack,
} from './support.mjs';

// The client's 60 s between push attempts while polling, shortened through its injectable
// timers so that the return to push takes a second, not a minute.
const PUSH_RETRY_IN_TEST_MS = 1_000;
// After the last expected message: long enough for a duplicate push (the stream is polled
// every 250 ms) or a stray reconnect to show.
const SETTLE_MS = 1_500;

let stack;
let base;
let call;
let browser;
let admin;

before(async () => {
  stack = await startStack();
  base = stack.url;
  call = apiAt(base);
  browser = await launchBrowser();
  admin = { Authorization: `Bearer ${await agentToken(base)}` };
});

after(async () => {
  await browser?.close();
  await stopStack(stack);
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function reply(sessionId, text) {
  const sent = await call('POST', '/api/admin/chat/message', { sessionId, message: text, sender: 'admin' }, admin);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return sent.body.data.messageId;
}

async function customerSays(sessionId, customer, text) {
  const sent = await call('POST', '/api/chat/message', { sessionId, message: text, sender: 'user' }, customer);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return sent.body.data.messageId;
}

const recorded = (page) => page.evaluate(() => ({
  states: window.push.states,
  messageIds: window.push.messages.map((m) => m.messageId),
  messages: window.push.messages,
  events: window.push.events,
  snapshots: window.push.snapshots,
  errors: window.push.errors,
  frames: window.push.frames,
  sockets: window.push.sockets.length,
  state: window.client.state,
}));

// Until the client's newest state is `state` (and, with `sockets`, it has made that many).
async function waitForState(page, state, sockets = 0, timeout = 15_000) {
  await page.waitForFunction(([s, n]) => window.client.state === s && window.push.sockets.length >= n, [state, sockets], { timeout });
}

async function waitForMessages(page, count, timeout = 15_000) {
  await page.waitForFunction((n) => window.push.messages.length >= n, count, { timeout });
}

// Until a frame has brought each of `ids`. A push can trail the read that delivered its message
// by a list hint's interval (LIST_HINT_MS, 2 s): the consumer waits for the hint's turn before
// it takes the next batch.
async function waitForPushed(page, ids, timeout = 10_000) {
  await page.waitForFunction((wanted) => wanted.every((id) => window.push.frames.some(
    (f) => f.type === 'message.created' && f.data.messageId === id)), ids, { timeout });
}

// Every id once, none missing, none extra (the order is checked where it is promised).
function assertOnce(ids, expected, what) {
  assert.equal(new Set(ids).size, ids.length, `${what}: none twice (${ids.join(', ')})`);
  assert.deepEqual([...ids].sort(), [...expected].sort(), `${what}: each once`);
}

// What the client delivered, in the order written; a subtest of its own while the server can
// reorder one connection's frames.
async function assertInOrder(t, ids, expected) {
  await t.test('in the order written', () => assert.deepEqual(ids, expected));
}

const polls = (requests) => requests.filter((path) => path.includes('/api/chat/poll/')).length;
// The message ids that came in frames, each once however often it came.
const pushedIds = (frames) => [...new Set(frames.filter((f) => f.type === 'message.created').map((f) => f.data.messageId))].sort();

test('a customer connects, catches up, and gets each agent reply once, in order, by push', { timeout: 30_000 }, async (t) => {
  const { sessionId, client } = await openChat(base, { name: 'Ada Push', email: 'ada@example.com' }, 'Where is my parcel?');
  // Written before the client connects: only the catch-up read can bring it.
  const sent = [await reply(sessionId, 'Let me look.')];
  const { page, problems, requests, close } = await openPushPage(browser, base);
  try {
    await startPushClient(page, PUSH_RETRY_IN_TEST_MS, { role: 'customer', sessionId, chatToken: client['X-Chat-Token'] });
    await waitForState(page, 'push');
    await waitForMessages(page, 1);
    const pollsAfterCatchUp = polls(requests);

    for (let i = 1; i <= 5; i += 1) sent.push(await reply(sessionId, `Reply ${i}`));
    await waitForMessages(page, sent.length);
    await sleep(SETTLE_MS);

    const seen = await recorded(page);
    assertOnce(seen.messageIds, sent, 'replies');
    assert.equal(seen.messageIds[0], sent[0], 'the catch-up read first');
    assert.ok(seen.messages.every((m) => m.sender === 'admin' && m.sessionId === sessionId));
    // The five came by push: each in a frame, and no read was made for them.
    assert.deepEqual(pushedIds(seen.frames).filter((id) => id !== sent[0]), sent.slice(1));
    assert.equal(polls(requests), pollsAfterCatchUp, 'no poll while push works');
    assert.deepEqual(seen.states, ['connecting', 'push']);
    assert.equal(seen.sockets, 1);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(problems, []);
    await assertInOrder(t, seen.messageIds, sent);
  } finally {
    await close();
  }
});

test('dropped sockets: the client reconnects each time and still gets every reply once, in order', { timeout: 40_000 }, async (t) => {
  const { sessionId, client } = await openChat(base, { name: 'Bo Reconnect', email: 'bo@example.com' }, 'Is anyone there?');
  const { page, problems, close } = await openPushPage(browser, base);
  try {
    await startPushClient(page, PUSH_RETRY_IN_TEST_MS, { role: 'customer', sessionId, chatToken: client['X-Chat-Token'] });
    await waitForState(page, 'push', 1);

    // The agent keeps replying, every 250 ms, while the page drops the client's socket three
    // times: replies land while connected, while disconnected (their push finds no
    // connection) and around each reconnect's catch-up read.
    const sent = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 1; sending || i <= 12; i += 1) {
        sent.push(await reply(sessionId, `Reply ${i}`));
        await sleep(250);
      }
    })();
    const drops = 3;
    try {
      for (let drop = 1; drop <= drops; drop += 1) {
        await sleep(600);
        await page.evaluate(() => window.push.sockets.at(-1).close());
        await waitForState(page, 'push', drop + 1);
      }
    } finally {
      sending = false;
      await sender;
    }
    await waitForMessages(page, sent.length);
    await sleep(SETTLE_MS);

    const seen = await recorded(page);
    assertOnce(seen.messageIds, sent, 'replies');
    assert.deepEqual(seen.states, Array(drops + 1).fill(['connecting', 'push']).flat(), 'connecting -> push after each drop');
    assert.equal(seen.sockets, drops + 1, 'one new socket per drop, no more');
    assert.equal(seen.state, 'push');
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(problems, []);
    await assertInOrder(t, seen.messageIds, sent);
  } finally {
    await close();
  }
});

test('push refused: the client polls and gets every reply once, then goes back to push', { timeout: 40_000 }, async (t) => {
  const { sessionId, client } = await openChat(base, { name: 'Cy Fallback', email: 'cy@example.com' }, 'Can I change my order?');
  const { page, problems, requests, close } = await openPushPage(browser, base);
  try {
    // Every upgrade is refused (401) from the start: three failed connects, then polling.
    await startPushClient(page, PUSH_RETRY_IN_TEST_MS, { role: 'customer', sessionId, chatToken: client['X-Chat-Token'], refuse: true });
    await waitForState(page, 'polling', 3);

    const sent = [];
    for (let i = 1; i <= 3; i += 1) sent.push(await reply(sessionId, `While polling ${i}`));
    await waitForMessages(page, sent.length);
    // Retries (every PUSH_RETRY_IN_TEST_MS) keep failing meanwhile, and polling goes on.
    await page.waitForFunction(() => window.push.sockets.length >= 5, null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => window.client.state), 'polling');

    await page.evaluate(() => { window.push.refuse = false; });
    await waitForState(page, 'push');
    // The read on open, and a poll that was under way, may still finish; then polling stops.
    await sleep(500);
    const pollsInPush = polls(requests);
    for (let i = 1; i <= 3; i += 1) sent.push(await reply(sessionId, `Back on push ${i}`));
    await waitForMessages(page, sent.length);
    await sleep(SETTLE_MS);

    const seen = await recorded(page);
    assertOnce(seen.messageIds, sent, 'replies');
    assert.deepEqual(seen.messageIds.slice(0, 3), sent.slice(0, 3), 'polled in order');
    assert.deepEqual(seen.states, ['connecting', 'polling', 'push']);
    // Those after the return came by push: no poll since (over two poll intervals).
    assert.deepEqual(pushedIds(seen.frames), sent.slice(3));
    assert.equal(polls(requests), pollsInPush, 'polling stopped once push was back');
    // Each refused connect, while connecting and while polling, failed without an error.
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(problems.filter((p) => !/WebSocket connection to .* failed/.test(p)), []);
    await assertInOrder(t, seen.messageIds, sent);
  } finally {
    await close();
  }
});

test('an agent gets lists.changed for a new chat and each message of the chat it watches, once', { timeout: 30_000 }, async () => {
  const { page, problems, close } = await openPushPage(browser, base);
  try {
    await startPushClient(page, PUSH_RETRY_IN_TEST_MS, { role: 'agent', agentToken: admin.Authorization.slice('Bearer '.length) });
    await waitForState(page, 'push');

    const { sessionId, client } = await openChat(base, { name: 'Di Agentside', email: 'di@example.com' }, 'Hello?');
    await page.waitForFunction((id) => window.push.events.some((f) => f.type === 'lists.changed'
      && f.data.sessions.some((row) => row.sessionId === id)), sessionId, { timeout: 10_000 });

    // The agent takes the chat and watches it: the read brings the question, pushes the rest.
    const claimed = await call('POST', '/api/admin/chat/claim', { sessionId }, admin);
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
    await page.evaluate((id) => window.client.watch(id), sessionId);
    await waitForMessages(page, 1);
    await customerSays(sessionId, client, 'My order is late.');
    await reply(sessionId, 'Sorry to hear that.');
    await customerSays(sessionId, client, 'Order #77.');
    await reply(sessionId, 'It ships today.');
    await waitForMessages(page, 5);
    const delivered = await page.evaluate(() => window.push.messages.map((m) => m.messageId));
    // The four written while watched come by push too (a read may have delivered them first;
    // the question may be pushed as well when its record is fanned out after the claim).
    await waitForPushed(page, delivered.slice(1));
    await sleep(SETTLE_MS);

    const transcript = await call('GET', `/api/admin/chat/messages/${sessionId}`, undefined, admin);
    assert.equal(transcript.status, 200, JSON.stringify(transcript.body));
    const seen = await recorded(page);
    // In order: the fanout posts one connection's frames in record order, and an agent's
    // client also reads from its cursor when a pushed message skips a sequence number.
    assert.deepEqual(seen.messageIds, transcript.body.data.messages.map((m) => m.messageId), 'both sides, once, in order');
    assert.deepEqual(seen.messages.map((m) => m.sender), ['user', 'user', 'admin', 'user', 'admin']);
    // Messages of the watched session go to onMessage only.
    assert.ok(!seen.events.some((f) => f.type === 'message.created'));
    const hints = seen.events.filter((f) => f.type === 'lists.changed').map((f) => f.id);
    assert.ok(hints.length >= 1);
    assert.equal(new Set(hints).size, hints.length, 'no lists.changed twice');
    assert.deepEqual(seen.states, ['connecting', 'push']);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});

test('the agent ends the chat: the customer gets session.ended, then closing, and stops', { timeout: 30_000 }, async (t) => {
  const { sessionId, client } = await openChat(base, { name: 'Ed Ending', email: 'ed@example.com' }, 'Thanks, that is all.');
  const { page, problems, requests, close } = await openPushPage(browser, base);
  try {
    await startPushClient(page, PUSH_RETRY_IN_TEST_MS, { role: 'customer', sessionId, chatToken: client['X-Chat-Token'] });
    await waitForState(page, 'push');
    // The reply also assigns the chat: a session.assigned before the end.
    const last = await reply(sessionId, 'Glad to help. Goodbye!');
    await waitForMessages(page, 1);
    await page.waitForFunction(() => window.push.events.some((f) => f.type === 'session.assigned'), null, { timeout: 10_000 });

    const ended = await call('POST', '/api/admin/chat/session/end', { sessionId }, admin);
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    await waitForState(page, 'closed');
    const requestsAtClose = requests.length;
    // Longer than the first reconnect delays (below 1 s, then 2 s): a reconnect would show.
    await sleep(2_500);

    const seen = await recorded(page);
    const types = seen.events.map((f) => f.type);
    assert.equal(types[0], 'session.assigned');
    assert.equal(types.at(-1), 'closing', 'closing is the last event');
    assert.equal(types.filter((type) => type === 'closing').length, 1);
    assert.equal(seen.events.at(-1).data.reason, 'session-ended');
    // The read after closing: the customer learns the end from the poll whatever was pushed.
    assert.equal(seen.snapshots.at(-1).sessionEnded, true);
    assert.deepEqual(seen.messageIds, [last]);
    assert.deepEqual(seen.states, ['connecting', 'push', 'closed']);
    assert.equal(seen.sockets, 1, 'no reconnect');
    assert.equal(requests.length, requestsAtClose, 'no request after closed');
    assert.equal(await page.evaluate(() => window.push.sockets[0].readyState), 3, 'the socket is closed');
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(problems, []);
    await t.test('session.ended, once, before closing', () => {
      assert.deepEqual(types, ['session.assigned', 'session.ended', 'closing']);
      assert.equal(seen.events[1].sessionId, sessionId);
      assert.equal(seen.events[1].data.status, 'ended_by_admin');
    });
  } finally {
    await close();
  }
});
