// The push channel's reference client (functions/admin-dashboard/assets/push-client.js) against a
// fake WebSocket, a fake REST API and a fake clock: no network, no browser, no real waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PushClient, backoffDelay, compareEventIds, CONNECT_TIMEOUT_MS, FAILED_CONNECTS_BEFORE_POLLING,
  PING_INTERVAL_MS, POLL_INTERVAL_MS, PONG_TIMEOUT_MS, PUSH_RETRY_MS, REFRESH_AFTER_MS, VIEW_RETRY_MS,
} from '../../functions/admin-dashboard/assets/push-client.js';

const realSetImmediate = setImmediate;
// Lets every promise chain the client started run to its next timer (no time passes).
async function settle() {
  for (let i = 0; i < 20; i += 1) await new Promise((resolve) => realSetImmediate(resolve));
}

function fakeClock() {
  let now = 0;
  let nextId = 0;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      nextId += 1;
      timers.set(nextId, { at: now + Math.max(0, ms), fn });
      return nextId;
    },
    clearTimeout: (id) => timers.delete(id),
    // Runs every timer due within `ms`, in time order, letting promises settle between them.
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        await settle();
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
        if (due.length === 0) break;
        const [id, timer] = due[0];
        timers.delete(id);
        now = timer.at;
        timer.fn();
      }
      now = end;
      await settle();
    },
    pendingDelays: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
  };
}

// Longer than any reconnect backoff of the first few steps (1, 2, 4 s).
const MAX_WAIT_BEFORE_RETRY_MS = 8_000;

const message = (n, sender = 'admin') => ({
  messageId: `msg_${String(n).padStart(12, '0')}`, message: `text ${n}`, sender, timestamp: '2026-12-08T10:00:00.000Z',
});

// One session on a fake server: its messages (what the poll or transcript returns), the tickets
// it issues, the sockets clients open, and every request made.
function fakeServer({ role = 'customer' } = {}) {
  const server = {
    messages: [],
    sessionEnded: false,
    ticketStatus: 200,
    pollStatus: 200,
    requests: [],
    sockets: [],
    // A read that does not answer until the test says so.
    holdReads: false,
    heldReads: [],
    // Pings are answered with a pong, as the $default route does, unless the test says not.
    answerPings: true,
  };
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closedWith = null;
      server.sockets.push(this);
    }
    send(text) {
      const frame = JSON.parse(text);
      this.sent.push(frame);
      if (frame.action === 'ping' && server.answerPings) {
        queueMicrotask(() => this.push({ type: 'pong', at: '2026-12-08T10:00:00.000Z', data: { t: frame.t } }));
      }
    }
    close(code) {
      this.closedWith = code;
      queueMicrotask(() => this.onclose?.({ code, reason: '' }));
    }
    open() { this.onopen?.({}); }
    push(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
    drop(code = 1006) { this.onclose?.({ code, reason: '' }); }
  }
  server.WebSocket = FakeSocket;
  const answer = (status, body) => ({ status, json: async () => body });
  server.fetch = async (url, init) => {
    const { pathname, searchParams } = new URL(url, 'https://api.test');
    server.requests.push({ method: init.method, path: pathname, after: searchParams.get('after'), headers: init.headers, body: init.body && JSON.parse(init.body) });
    if (pathname.endsWith('/realtime/ticket')) {
      if (server.ticketStatus !== 200) return answer(server.ticketStatus, { success: false, error: { code: 'SESSION_NOT_FOUND', message: 'no' } });
      const ticket = `ticket${server.requests.length}`;
      return answer(200, { success: true, data: { ticket, url: `wss://push.test/v1?ticket=${ticket}`, expiresIn: 60 } });
    }
    if (server.pollStatus !== 200) return answer(server.pollStatus, { success: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'busy' } });
    const after = searchParams.get('after');
    const newer = server.messages.filter((m) => !after || m.messageId > after);
    const page = newer.slice(0, 50);
    const data = role === 'customer'
      ? { messages: page, sessionEnded: server.sessionEnded, sessionStatus: server.sessionEnded ? 'ended' : 'active', endReason: server.sessionEnded ? 'user' : null, hasMore: newer.length > 50 }
      : { session: { status: 'active' }, messages: page, hasMore: newer.length > 50, customerTyping: false, customerReadUpTo: null };
    if (server.holdReads) await new Promise((resolve) => server.heldReads.push(resolve));
    return answer(200, { success: true, data });
  };
  server.reads = () => server.requests.filter((r) => !r.path.endsWith('/realtime/ticket'));
  server.tickets = () => server.requests.filter((r) => r.path.endsWith('/realtime/ticket'));
  server.lastSocket = () => server.sockets.at(-1);
  return server;
}

function customerClient(server, clock, extra = {}) {
  const seen = { messages: [], events: [], states: [], errors: [] };
  const client = new PushClient({
    role: 'customer', apiBase: 'https://api.test/v1', sessionId: 'chat_1_abcdef', chatToken: 'token-43',
    onMessage: (m) => seen.messages.push(m.messageId),
    onEvent: (frame) => seen.events.push(frame),
    onState: (state) => seen.states.push(state),
    onError: (error) => seen.errors.push(error.code),
    WebSocket: server.WebSocket, fetch: server.fetch, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
    now: clock.now, random: () => 0.5, ...extra,
  });
  return { client, seen };
}

const created = (n, id, sessionId = 'chat_1_abcdef') => ({ type: 'message.created', id, sessionId, at: '2026-12-08T10:00:00.000Z', data: message(n) });

async function connected(server, clock, extra) {
  const { client, seen } = customerClient(server, clock, extra);
  client.start();
  await settle();
  server.lastSocket().open();
  await settle();
  return { client, seen };
}

test('event ids compare as decimal strings, then by their .n part', () => {
  assert.equal(compareEventIds('100', '99'), 1);
  assert.equal(compareEventIds('99', '100'), -1);
  assert.equal(compareEventIds('1100000000017454423009', '1100000000017454423010'), -1);
  assert.equal(compareEventIds('5.2', '5.10'), -1);
  assert.equal(compareEventIds('5', '5.0'), 0);
  assert.equal(compareEventIds('5.1', '5'), 1);
});

test('the customer gets a ticket with its token, connects to its url and catches up from its cursor', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  server.messages.push(message(3), message(5));
  const { client, seen } = customerClient(server, clock, { cursor: message(3).messageId });
  client.start();
  await settle();
  const [ticket] = server.tickets();
  assert.equal(ticket.method, 'POST');
  assert.equal(ticket.path, '/v1/api/chat/realtime/ticket');
  assert.equal(ticket.headers['X-Chat-Token'], 'token-43');
  assert.deepEqual(ticket.body, { sessionId: 'chat_1_abcdef' });
  assert.equal(server.lastSocket().url, 'wss://push.test/v1?ticket=ticket1');
  assert.deepEqual(seen.states, ['connecting']);
  server.lastSocket().open();
  await settle();
  assert.deepEqual(server.reads().map((r) => [r.path, r.after, r.headers['X-Chat-Token']]),
    [['/v1/api/chat/poll/chat_1_abcdef', 'msg_000000000003', 'token-43']]);
  assert.deepEqual(seen.messages, ['msg_000000000005']);
  assert.deepEqual(seen.states, ['connecting', 'push']);
  assert.equal(client.cursor, 'msg_000000000005');
});

test('a message delivered by the poll, by push, by push again and across a reconnect reaches the app once', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  server.messages.push(message(1));
  const { client, seen } = await connected(server, clock);
  server.lastSocket().push(created(1, '10'));
  server.messages.push(message(2));
  server.lastSocket().push(created(2, '11'));
  server.lastSocket().push(created(2, '11'));
  // The connection drops; a reply written meanwhile comes with the catch-up read, and its late
  // push after that changes nothing.
  server.lastSocket().drop();
  server.messages.push(message(4));
  await clock.advance(1_000);
  server.lastSocket().open();
  await settle();
  server.lastSocket().push(created(4, '13'));
  server.lastSocket().push(created(2, '11'));
  assert.deepEqual(seen.messages, ['msg_000000000001', 'msg_000000000002', 'msg_000000000004']);
  assert.equal(server.reads().at(-1).after, 'msg_000000000002');
  assert.equal(client.cursor, 'msg_000000000004');
});

test('pushes that arrive during the catch-up read wait for it, so the app gets them in order', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  server.messages.push(message(1), message(2));
  server.holdReads = true;
  const { seen } = await connected(server, clock);
  server.lastSocket().push(created(2, '11'));
  server.lastSocket().push(created(3, '12'));
  assert.deepEqual(seen.messages, []);
  server.heldReads.shift()();
  await settle();
  assert.deepEqual(seen.messages, ['msg_000000000001', 'msg_000000000002', 'msg_000000000003']);
});

test('reconnects with full-jitter backoff, 1 s doubling to 30 s, and starts anew after a stable connection', async () => {
  assert.equal(backoffDelay(0, () => 0), 0);
  assert.equal(backoffDelay(0, () => 0.999999), 999);
  assert.equal(backoffDelay(1, () => 0.999999), 1_999);
  assert.equal(backoffDelay(4, () => 0.999999), 15_999);
  assert.equal(backoffDelay(5, () => 0.999999), 29_999);
  assert.equal(backoffDelay(20, () => 0.999999), 29_999);

  const server = fakeServer();
  const clock = fakeClock();
  const randoms = [0.25, 0.999999, 0.5];
  const { seen } = await connected(server, clock, { random: () => randoms.shift() });
  server.lastSocket().drop(1001);
  await settle();
  assert.deepEqual(seen.states, ['connecting', 'push', 'connecting']);
  assert.deepEqual(clock.pendingDelays(), [250]);
  await clock.advance(250);
  assert.equal(server.tickets().length, 2);
  server.lastSocket().drop(1006);
  await settle();
  assert.deepEqual(clock.pendingDelays(), [1_999]);
  await clock.advance(1_999);
  server.lastSocket().open();
  await settle();
  // Healthy for a minute: the next drop waits at most 1 s again.
  await clock.advance(60_000);
  server.lastSocket().drop(1001);
  await settle();
  assert.ok(clock.pendingDelays().includes(500), clock.pendingDelays().join());
});

test('after 3 failed connects it polls every 2 s from the cursor, retries push every 60 s, and stops polling once push is back', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  server.messages.push(message(1));
  const { client, seen } = await connected(server, clock);
  server.lastSocket().drop();
  // Each retry comes within its backoff (0.5 s, 1 s, 2 s), and fails before the connect timeout.
  for (let i = 0; i < 3; i += 1) {
    await clock.advance(5_000);
    server.lastSocket().drop();
    await settle();
  }
  assert.equal(client.state, 'polling');
  assert.deepEqual(seen.states, ['connecting', 'push', 'connecting', 'polling']);
  assert.equal(server.tickets().length, 4);
  assert.equal(server.reads().at(-1).after, 'msg_000000000001', 'the first poll at once, from the cursor');
  const readsBefore = server.reads().length;
  server.messages.push(message(2));
  await clock.advance(POLL_INTERVAL_MS * 5);
  const polls = server.reads().slice(readsBefore);
  assert.equal(polls.length, 5, 'one poll every 2 s');
  assert.deepEqual(polls.map((r) => r.after), ['msg_000000000001', ...Array(4).fill('msg_000000000002')]);
  assert.deepEqual(seen.messages, ['msg_000000000001', 'msg_000000000002']);

  // A retry that fails leaves it polling; the next one, 60 s later, brings push back.
  await clock.advance(PUSH_RETRY_MS - POLL_INTERVAL_MS * 5);
  assert.equal(server.tickets().length, 5);
  server.lastSocket().drop();
  await clock.advance(PUSH_RETRY_MS);
  assert.equal(server.tickets().length, 6);
  assert.equal(client.state, 'polling');
  server.lastSocket().open();
  await settle();
  assert.equal(client.state, 'push');
  const readsAtPush = server.reads().length;
  await clock.advance(POLL_INTERVAL_MS * 10);
  assert.equal(server.reads().length, readsAtPush, 'no polling while push is up');
  assert.deepEqual(seen.messages, ['msg_000000000001', 'msg_000000000002']);
});

test('a socket that never opens counts as a failed connect', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { client } = customerClient(server, clock);
  client.start();
  for (let i = 0; i < 3; i += 1) await clock.advance(CONNECT_TIMEOUT_MS + 30_000);
  assert.equal(client.state, 'polling');
  assert.ok(server.sockets.every((socket) => socket.closedWith === 1000));
});

test('state events apply only when newer for their session and kind', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { seen } = await connected(server, clock);
  const socket = server.lastSocket();
  const assigned = (id, name) => ({ type: 'session.assigned', id, sessionId: 'chat_1_abcdef', at: '2026-12-08T10:00:00.000Z', data: { assignedTo: { adminId: 'adm_aaaaaaaaaaaaaaaaaaaaaa', name }, via: 'claim' } });
  socket.push(assigned('100.2', 'Ana'));
  socket.push(assigned('100.2', 'Ana'));
  socket.push(assigned('100.1', 'Old'));
  socket.push(assigned('99', 'Older'));
  socket.push(assigned('101', 'Bo'));
  // Another kind has its own order: an older id still applies.
  socket.push({ type: 'typing', id: '98', sessionId: 'chat_1_abcdef', at: '2026-12-08T10:00:00.000Z', data: { side: 'admin', at: '2026-12-08T10:00:00.000Z' } });
  socket.push({ type: 'pong', at: '2026-12-08T10:00:00.000Z', data: { t: 1 } });
  socket.push({ type: 'pong', at: '2026-12-08T10:00:00.000Z', data: { t: 1 } });
  assert.deepEqual(seen.events.map((f) => f.data.assignedTo?.name ?? f.type), ['Ana', 'Bo', 'typing', 'pong', 'pong']);
});

test('list hints are not ordered (ids from different shards do not compare): only the same hint twice is dropped', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { seen } = await connected(server, clock);
  const socket = server.lastSocket();
  const hint = (id) => ({ type: 'lists.changed', id, at: '2026-12-08T10:00:00.000Z', data: { lists: ['all'], sessions: [], truncated: false } });
  socket.push(hint('500'));
  socket.push(hint('20'));
  socket.push(hint('500'));
  assert.deepEqual(seen.events.filter((f) => f.type === 'lists.changed').map((f) => f.id), ['500', '20']);
});

test('pings every 5 minutes while connected', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  await connected(server, clock);
  const socket = server.lastSocket();
  await clock.advance(PING_INTERVAL_MS - 1);
  assert.deepEqual(socket.sent, []);
  await clock.advance(1);
  assert.deepEqual(socket.sent, [{ action: 'ping', t: PING_INTERVAL_MS }]);
  await clock.advance(PING_INTERVAL_MS);
  assert.deepEqual(socket.sent.map((p) => p.t), [PING_INTERVAL_MS, 2 * PING_INTERVAL_MS]);
  socket.drop();
  await clock.advance(PING_INTERVAL_MS);
  assert.equal(socket.sent.length, 2, 'no ping on a closed socket');
});

test('a ping left unanswered (a dead connection after sleep): the socket is dropped and a new one made', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { seen } = await connected(server, clock);
  const first = server.lastSocket();
  server.answerPings = false;
  await clock.advance(PING_INTERVAL_MS + PONG_TIMEOUT_MS - 1);
  assert.equal(server.sockets.length, 1, 'still waiting for the pong');
  await clock.advance(1);
  assert.equal(first.closedWith, 1000);
  assert.equal(seen.states.at(-1), 'connecting');
  await clock.advance(1_000);
  assert.equal(server.sockets.length, 2, 'a new connection after the backoff');
  server.answerPings = true;
  server.lastSocket().open();
  await settle();
  assert.equal(seen.states.at(-1), 'push');
});

test('wake(): a live connection is pinged at once; a client polling or waiting to reconnect connects now', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { client, seen } = await connected(server, clock);
  client.wake();
  assert.deepEqual(server.lastSocket().sent.map((f) => f.action), ['ping']);
  await settle();
  assert.equal(seen.events.at(-1).type, 'pong');
  // Push refused until the client polls; then wake() tries again without the 60 s wait.
  server.lastSocket().drop();
  for (let i = 0; i < FAILED_CONNECTS_BEFORE_POLLING; i += 1) {
    await clock.advance(MAX_WAIT_BEFORE_RETRY_MS);
    server.lastSocket().drop();
  }
  await settle();
  assert.equal(client.state, 'polling');
  const socketsBefore = server.sockets.length;
  client.wake();
  await settle();
  assert.equal(server.sockets.length, socketsBefore + 1, 'connects at once');
  server.lastSocket().open();
  await settle();
  assert.equal(client.state, 'push');
  // While a connection is being made, wake() starts no second one.
  server.lastSocket().drop();
  await clock.advance(MAX_WAIT_BEFORE_RETRY_MS);
  const connecting = server.sockets.length;
  client.wake();
  await settle();
  assert.equal(server.sockets.length, connecting);
});

test('reconnects on its own at 1 h 55 min, before API Gateway closes at 2 h, and catches up', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  server.messages.push(message(1));
  const { seen } = await connected(server, clock);
  const first = server.lastSocket();
  server.messages.push(message(2));
  await clock.advance(REFRESH_AFTER_MS);
  assert.equal(first.closedWith, 1000);
  assert.equal(server.sockets.length, 2);
  assert.equal(server.tickets().length, 2);
  assert.ok(REFRESH_AFTER_MS < 2 * 60 * 60_000);
  server.lastSocket().open();
  await settle();
  assert.equal(server.reads().at(-1).after, 'msg_000000000001');
  assert.deepEqual(seen.messages, ['msg_000000000001', 'msg_000000000002']);
  assert.deepEqual(seen.states.slice(-2), ['connecting', 'push']);
});

test('closing with session-ended: a last read, then closed for good', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { client, seen } = await connected(server, clock);
  // A goodbye whose push was lost: the last read brings it.
  server.messages.push(message(7));
  server.sessionEnded = true;
  server.lastSocket().push({ type: 'closing', id: '200.2', sessionId: 'chat_1_abcdef', at: '2026-12-08T10:00:00.000Z', data: { reason: 'session-ended' } });
  await settle();
  server.lastSocket().drop(1000);
  await clock.advance(10 * PUSH_RETRY_MS);
  assert.equal(client.state, 'closed');
  assert.deepEqual(seen.messages, ['msg_000000000007']);
  assert.equal(server.tickets().length, 1);
  assert.deepEqual(clock.pendingDelays(), []);
  assert.equal(seen.states.at(-1), 'closed');
});

test('a refused ticket (session gone) closes instead of retrying', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  server.ticketStatus = 404;
  const { client, seen } = customerClient(server, clock);
  client.start();
  await clock.advance(10 * PUSH_RETRY_MS);
  assert.equal(client.state, 'closed');
  assert.equal(server.tickets().length, 1);
  assert.deepEqual(seen.errors, ['SESSION_NOT_FOUND']);
});

test('a poll that says the session ended stops the polling fallback', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { client } = customerClient(server, clock);
  client.start();
  for (let i = 0; i < 3; i += 1) {
    await settle();
    server.lastSocket().drop();
    await clock.advance(5_000);
  }
  assert.equal(client.state, 'polling');
  server.sessionEnded = true;
  await clock.advance(POLL_INTERVAL_MS);
  assert.equal(client.state, 'closed');
  assert.deepEqual(clock.pendingDelays(), []);
});

test('stop() closes the socket and nothing runs after it', async () => {
  const server = fakeServer();
  const clock = fakeClock();
  const { client, seen } = await connected(server, clock);
  client.stop();
  await clock.advance(3 * 60 * 60_000);
  assert.equal(server.lastSocket().closedWith, 1000);
  assert.equal(server.tickets().length, 1);
  assert.deepEqual(seen.states, ['connecting', 'push', 'closed']);
});

test('an agent watches one chat: bearer ticket, transcript catch-up, other chats only as events, a gap read', async () => {
  const server = fakeServer({ role: 'agent' });
  const clock = fakeClock();
  server.messages.push(message(1, 'user'), message(2));
  const seen = { messages: [], events: [] };
  const client = new PushClient({
    role: 'agent', apiBase: '', agentToken: () => 'jwt',
    onMessage: (m, sessionId) => seen.messages.push(`${sessionId}/${m.messageId}`),
    onEvent: (frame) => seen.events.push(frame.type),
    WebSocket: server.WebSocket, fetch: server.fetch, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
    now: clock.now, random: () => 0.5,
  });
  client.start();
  await settle();
  const [ticket] = server.tickets();
  assert.equal(ticket.path, '/api/admin/realtime/ticket');
  assert.equal(ticket.headers.Authorization, 'Bearer jwt');
  assert.deepEqual(ticket.body, {});
  server.lastSocket().open();
  await settle();
  assert.equal(server.reads().length, 0, 'nothing watched, nothing to read');
  client.watch('chat_9_watched');
  await settle();
  assert.deepEqual(server.reads().map((r) => [r.path, r.after, r.headers.Authorization]),
    [['/api/admin/chat/messages/chat_9_watched', null, 'Bearer jwt']]);
  server.lastSocket().push(created(5, '30', 'chat_8_other'));
  server.lastSocket().push(created(3, '31', 'chat_9_watched'));
  // msg 4's push never came: the jump to 5 reads from the cursor, which brings 4 and 5 in order.
  server.messages.push(message(3), message(4, 'user'), message(5));
  server.lastSocket().push(created(5, '33', 'chat_9_watched'));
  await settle();
  assert.deepEqual(seen.messages, ['chat_9_watched/msg_000000000001', 'chat_9_watched/msg_000000000002',
    'chat_9_watched/msg_000000000003', 'chat_9_watched/msg_000000000004', 'chat_9_watched/msg_000000000005']);
  assert.deepEqual(seen.events, ['message.created']);
  assert.equal(server.reads().at(-1).after, 'msg_000000000003');
});

test('an agent views the chat on screen: said on open, on each change and again on every reconnect; a refused view is sent again', async () => {
  const server = fakeServer({ role: 'agent' });
  const clock = fakeClock();
  const client = new PushClient({
    role: 'agent', apiBase: '', agentToken: () => 'jwt',
    WebSocket: server.WebSocket, fetch: server.fetch, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
    now: clock.now, random: () => 0.5,
  });
  const views = (socket) => socket.sent.filter((f) => f.action === 'view').map((f) => f.sessionId);
  client.view('chat_1_abcdef');
  client.start();
  await settle();
  const first = server.lastSocket();
  assert.deepEqual(views(first), [], 'nothing before the socket opens');
  first.open();
  await settle();
  assert.deepEqual(views(first), ['chat_1_abcdef']);
  client.view('chat_1_abcdef');
  client.view('chat_2_abcdef');
  client.view(null);
  assert.deepEqual(views(first), ['chat_1_abcdef', 'chat_2_abcdef', null], 'each change once');
  client.view('chat_2_abcdef');
  first.push({ type: 'error', at: '2026-12-08T10:00:00.000Z', data: { code: 'RATE_LIMITED', message: 'slow down' } });
  await clock.advance(VIEW_RETRY_MS);
  assert.deepEqual(views(first).slice(-2), ['chat_2_abcdef', 'chat_2_abcdef'], 'sent again after a refusal');
  first.drop();
  await clock.advance(MAX_WAIT_BEFORE_RETRY_MS);
  server.lastSocket().open();
  await settle();
  assert.deepEqual(views(server.lastSocket()), ['chat_2_abcdef'], 'a new connection is told at once');
  assert.throws(() => customerClient(server, clock).client.view('chat_1_abcdef'), TypeError);
});
