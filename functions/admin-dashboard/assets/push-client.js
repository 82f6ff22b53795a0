// The push channel's reference client (docs/asyncapi.yaml, docs/mobile/guide.md "The push
// channel"). Push is a hint: the REST cursor stays the truth (docs/contract.md §C4), so every
// (re)connect catches up with one REST read from the cursor, and a client that cannot connect
// polls as the shipped app does. No dependencies: the WebSocket, fetch, the timers, the clock
// and Math.random are injectable, so tests drive it without a network or real time.

export const PING_INTERVAL_MS = 5 * 60_000;
// API Gateway ends every connection at 2 h; leaving first keeps the gap under our control.
export const REFRESH_AFTER_MS = 115 * 60_000;
export const FIRST_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 30_000;
// A connection that lived this long was healthy: the next reconnect starts the backoff anew.
export const STABLE_AFTER_MS = 60_000;
export const CONNECT_TIMEOUT_MS = 10_000;
export const FAILED_CONNECTS_BEFORE_POLLING = 3;
export const POLL_INTERVAL_MS = 2_000;
export const PUSH_RETRY_MS = 60_000;
// A ping unanswered this long means a dead connection (a laptop woken from sleep, a network
// that changed): the socket is dropped and a new one made.
export const PONG_TIMEOUT_MS = 10_000;
// A view the server could not take (rate limited, not stored) is sent again after this.
export const VIEW_RETRY_MS = 10_000;

// After these the server will not take this client back: reconnecting is pointless.
const FINAL_CLOSING_REASONS = new Set(['session-ended', 'agent-deactivated']);
// Ticket or read answers that no retry changes (signed out, wrong token, session gone).
const REFUSED_STATUSES = new Set([401, 403, 404]);

// Event ids are stream sequence numbers (decimal strings of any length), optionally `.n` when
// one record yields several events: -1, 0 or 1 as `a` is older than, the same as or newer than `b`.
export function compareEventIds(a, b) {
  const [aSeq, aPart = '0'] = String(a).split('.');
  const [bSeq, bPart = '0'] = String(b).split('.');
  if (aSeq.length !== bSeq.length) return aSeq.length < bSeq.length ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return Math.sign(Number(aPart) - Number(bPart));
}

// Message ids (`msg_` and a zero-padded sequence) sort as strings; length first all the same.
export function compareMessageIds(a, b) {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

// Full jitter: uniform in [0, min(30 s, 1 s × 2^step)).
export function backoffDelay(step, random) {
  return Math.floor(random() * Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** step));
}

// Which state an event replaces: events of one kind carry the full state of that kind, so only
// the newest of each kind per session counts.
function stateKey(frame) {
  const kind = frame.type.startsWith('session.') && frame.type !== 'session.assigned'
    ? 'status'
    : frame.type === 'typing' || frame.type === 'read'
      ? `${frame.type}:${frame.data?.side}`
      : frame.type;
  return `${frame.sessionId ?? ''}\n${kind}`;
}

// Adds `id` to a bounded set of recent ids; false if it was there already.
const REMEMBERED_IDS = 1000;
function remember(ids, id) {
  if (ids.has(id)) return false;
  ids.add(id);
  if (ids.size > REMEMBERED_IDS) ids.delete(ids.values().next().value);
  return true;
}

function messageSequence(messageId) {
  return Number(messageId.slice('msg_'.length));
}

// What onError receives: `status` is the HTTP status (0: no answer, or not a request).
export class PushClientError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class PushClient {
  // options:
  //   role: 'customer' | 'agent'
  //   apiBase: where the REST API is mounted ('https://{id}.execute-api.{region}.amazonaws.com/v1', '')
  //   sessionId: the customer's session; for an agent, the session watched at start (optional)
  //   chatToken: the customer's clientToken; agentToken: the agent's JWT (a string or a function
  //     returning the current one)
  //   cursor: the newest message id the app already shows (optional)
  //   onMessage(message, sessionId): each message of the (watched) session once, oldest first
  //   onEvent(frame): every other frame worth acting on (stale state events are dropped)
  //   onState(state): 'connecting' | 'push' | 'polling' | 'closed'
  //   onSnapshot(data, sessionId): every REST read's answer (the session state it carries)
  //   onError(error): a failed request or a frame that is not JSON; the client carries on
  //   WebSocket, fetch, setTimeout, clearTimeout, now, random: injectable for tests
  constructor(options) {
    if (options.role !== 'customer' && options.role !== 'agent') throw new TypeError('role must be customer or agent');
    if (options.role === 'customer' && !options.sessionId) throw new TypeError('a customer client needs its sessionId');
    this.role = options.role;
    this.apiBase = options.apiBase ?? '';
    this.chatToken = options.chatToken;
    this.agentToken = options.agentToken;
    this.callbacks = {
      onMessage: options.onMessage ?? (() => {}),
      onEvent: options.onEvent ?? (() => {}),
      onState: options.onState ?? (() => {}),
      onSnapshot: options.onSnapshot ?? (() => {}),
      onError: options.onError ?? (() => {}),
    };
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.setTimeout = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clearTimeout = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;

    this.currentState = 'closed';
    this.started = false;
    // Set once the server or the app ended it: no reconnect, no polling.
    this.finished = false;
    this.socket = null;
    this.openedAt = 0;
    this.failedConnects = 0;
    this.backoffStep = 0;
    this.polling = false;
    this.timers = { reconnect: null, ping: null, pong: null, refresh: null, connectTimeout: null, poll: null, pushRetry: null, view: null };
    // Agents: the session whose events this connection also gets (undefined: never said).
    this.viewing = undefined;
    this.latestStateIds = new Map();
    this.seenFrameIds = new Set();
    this.reading = false;
    this.readAgain = false;
    this.readDone = Promise.resolve();
    this.resetSession(options.sessionId ?? null, options.cursor ?? null);
  }

  get state() {
    return this.currentState;
  }

  // The newest message id delivered for the (watched) session: where the next REST read starts.
  get cursor() {
    return this.sessionCursor;
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  // The app is done with it: no more callbacks but this last onState('closed').
  stop() {
    if (this.finished) return;
    this.finished = true;
    this.shutDown();
  }

  // The app saw the network or the machine come back (the browser's 'online' event, a tab shown
  // again after sleep). A live connection is checked with a ping at once; a reconnect or a
  // return from polling that was waiting for its timer happens now.
  wake() {
    if (!this.started || this.finished) return;
    if (this.currentState === 'push') {
      this.ping();
      return;
    }
    if (this.timers.reconnect === null && this.timers.pushRetry === null) return; // connecting now
    this.clearTimers('reconnect', 'pushRetry');
    this.backoffStep = 0;
    this.connect();
  }

  // Agents: the chat whose messages go to onMessage (null: none). Reads it from `cursor` at once
  // when connected or polling.
  watch(sessionId, cursor = null) {
    if (this.role !== 'agent') throw new TypeError('only an agent client changes sessions');
    this.view(sessionId);
    this.resetSession(sessionId, cursor);
    if (sessionId && (this.currentState === 'push' || this.polling)) this.catchUp();
  }

  // Agents: the session the app shows (null: none). The server then sends this connection that
  // session's events as it does its holder's; said again on every (re)connect.
  view(sessionId) {
    if (this.role !== 'agent') throw new TypeError('only an agent client views sessions');
    if (this.viewing === (sessionId ?? null)) return;
    this.viewing = sessionId ?? null;
    this.sendView();
  }

  sendView() {
    this.clearTimers('view');
    if (this.viewing === undefined || this.currentState !== 'push' || !this.socket) return;
    this.socket.send(JSON.stringify({ action: 'view', sessionId: this.viewing }));
  }

  resetSession(sessionId, cursor) {
    this.sessionId = sessionId;
    this.sessionCursor = cursor;
    this.deliveredIds = new Set(cursor ? [cursor] : []);
    // Pushed messages that arrive while a REST read is under way wait for it, to stay in order.
    this.pushedDuringRead = [];
  }

  // --- Connecting -------------------------------------------------------------------------

  async connect() {
    if (this.finished) return;
    if (!this.polling) this.setState('connecting');
    let ticket;
    try {
      ticket = await this.requestTicket();
    } catch (error) {
      this.callbacks.onError(error);
      if (REFUSED_STATUSES.has(error.status)) this.finish();
      else this.connectFailed();
      return;
    }
    if (this.finished) return;
    let socket;
    try {
      socket = new this.WebSocket(ticket.url);
    } catch (error) {
      this.callbacks.onError(error);
      this.connectFailed();
      return;
    }
    this.socket = socket;
    let opened = false;
    this.timers.connectTimeout = this.setTimeout(() => {
      if (this.socket !== socket || opened) return;
      this.detachSocket();
      this.connectFailed();
    }, CONNECT_TIMEOUT_MS);
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.opened();
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers('connectTimeout', 'ping', 'pong', 'refresh');
      if (opened) this.connectionLost();
      else this.connectFailed();
    };
  }

  async requestTicket() {
    const [path, headers, body] = this.role === 'customer'
      ? ['/api/chat/realtime/ticket', { 'X-Chat-Token': valueOf(this.chatToken) }, { sessionId: this.sessionId }]
      : ['/api/admin/realtime/ticket', { Authorization: `Bearer ${valueOf(this.agentToken)}` }, {}];
    const data = await this.request('POST', path, headers, body);
    if (typeof data?.url !== 'string') throw new PushClientError(0, 'BAD_TICKET', 'The ticket answer has no url');
    return data;
  }

  opened() {
    this.clearTimers('connectTimeout', 'poll', 'pushRetry');
    this.polling = false;
    this.openedAt = this.now();
    this.failedConnects = 0;
    this.setState('push');
    this.schedulePing();
    this.timers.refresh = this.setTimeout(() => this.refresh(), REFRESH_AFTER_MS);
    this.sendView();
    this.catchUp();
  }

  schedulePing() {
    this.timers.ping = this.setTimeout(() => {
      this.ping();
      this.schedulePing();
    }, PING_INTERVAL_MS);
  }

  // Any frame before PONG_TIMEOUT_MS proves the connection alive (receive clears the timer).
  ping() {
    if (!this.socket || this.timers.pong !== null) return;
    this.socket.send(JSON.stringify({ action: 'ping', t: this.now() }));
    this.timers.pong = this.setTimeout(() => {
      this.timers.pong = null;
      this.detachSocket();
      this.connectionLost();
    }, PONG_TIMEOUT_MS);
  }

  // Before API Gateway's 2 h limit: a new connection at once; the catch-up read on open covers
  // the moment without one.
  refresh() {
    this.detachSocket();
    this.backoffStep = 0;
    this.connect();
  }

  connectFailed() {
    if (this.finished) return;
    this.failedConnects += 1;
    if (this.polling) {
      this.timers.pushRetry = this.setTimeout(() => this.connectAfter('pushRetry'), PUSH_RETRY_MS);
    } else if (this.failedConnects >= FAILED_CONNECTS_BEFORE_POLLING) {
      this.startPolling();
    } else {
      this.scheduleReconnect();
    }
  }

  connectionLost() {
    if (this.finished) return;
    if (this.now() - this.openedAt >= STABLE_AFTER_MS) this.backoffStep = 0;
    this.setState('connecting');
    this.scheduleReconnect();
  }

  // A timer's connect: the timer is spent (wake() tells a waiting client by its timers).
  connectAfter(timer) {
    this.timers[timer] = null;
    this.connect();
  }

  scheduleReconnect() {
    const delay = backoffDelay(this.backoffStep, this.random);
    this.backoffStep += 1;
    this.timers.reconnect = this.setTimeout(() => this.connectAfter('reconnect'), delay);
  }

  startPolling() {
    this.polling = true;
    this.setState('polling');
    this.timers.pushRetry = this.setTimeout(() => this.connectAfter('pushRetry'), PUSH_RETRY_MS);
    this.pollNow();
  }

  async pollNow() {
    await this.catchUp();
    if (this.polling && !this.finished) this.timers.poll = this.setTimeout(() => this.pollNow(), POLL_INTERVAL_MS);
  }

  // Closes the socket without treating its close as a lost connection.
  detachSocket() {
    const socket = this.socket;
    this.socket = null;
    this.clearTimers('connectTimeout', 'ping', 'pong', 'refresh');
    if (socket) socket.close(1000);
  }

  // The server ended this client's reason to exist: deliver what is left, then close.
  async finish({ finalRead = false } = {}) {
    if (this.finished) return;
    this.finished = true;
    this.detachSocket();
    this.clearTimers(...Object.keys(this.timers));
    if (finalRead) await this.catchUp();
    this.shutDown();
  }

  shutDown() {
    this.detachSocket();
    this.clearTimers(...Object.keys(this.timers));
    this.polling = false;
    this.setState('closed');
  }

  // --- Frames -----------------------------------------------------------------------------

  receive(text) {
    this.clearTimers('pong');
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      this.callbacks.onError(new PushClientError(0, 'BAD_FRAME', 'A frame that is not JSON'));
      return;
    }
    if (!frame || typeof frame.type !== 'string') return;
    switch (frame.type) {
      case 'message.created':
        this.receiveMessage(frame);
        return;
      case 'error':
        // A view the server did not take is sent again (the answer does not say which frame
        // it refused; resending the current view is harmless).
        if (this.viewing !== undefined && ['RATE_LIMITED', 'UNAVAILABLE'].includes(frame.data?.code)) {
          this.clearTimers('view');
          this.timers.view = this.setTimeout(() => this.sendView(), VIEW_RETRY_MS);
        }
        this.callbacks.onEvent(frame);
        return;
      case 'pong':
      case 'viewing':
        this.callbacks.onEvent(frame);
        return;
      case 'closing':
        this.callbacks.onEvent(frame);
        if (FINAL_CLOSING_REASONS.has(frame.data?.reason)) {
          // A customer's last read picks up a reply whose push was lost.
          this.finish({ finalRead: this.role === 'customer' && frame.data.reason === 'session-ended' });
        }
        return;
      default:
        if (this.isStale(frame)) return;
        this.callbacks.onEvent(frame);
    }
  }

  // Redelivered (a stream retry) or overtaken (another shard was faster) events change nothing.
  // List hints are not states of one session and ids from different shards do not compare:
  // only the very same hint again is dropped.
  isStale(frame) {
    if (typeof frame.id !== 'string') return false;
    if (frame.type === 'lists.changed') return !remember(this.seenFrameIds, frame.id);
    const key = stateKey(frame);
    const latest = this.latestStateIds.get(key);
    if (latest !== undefined && compareEventIds(frame.id, latest) <= 0) return true;
    this.latestStateIds.set(key, frame.id);
    return false;
  }

  receiveMessage(frame) {
    const sessionId = frame.sessionId ?? this.sessionId;
    const message = frame.data;
    if (!message || typeof message.messageId !== 'string') return;
    if (sessionId !== this.sessionId) {
      // Another chat the agent holds: a hint for the list, not a transcript of ours (once,
      // as any redelivered frame).
      if (remember(this.seenFrameIds, `${frame.id}\n${sessionId}`)) this.callbacks.onEvent(frame);
      return;
    }
    if (this.reading) {
      this.pushedDuringRead.push(message);
      return;
    }
    // An agent sees both sides, so message sequences are contiguous: a jump means a push went
    // missing, and the read from the cursor brings it (and this one) in order.
    if (this.role === 'agent' && this.sessionCursor && !this.deliveredIds.has(message.messageId)
        && messageSequence(message.messageId) > messageSequence(this.sessionCursor) + 1) {
      this.pushedDuringRead.push(message);
      this.catchUp();
      return;
    }
    this.deliver(message);
  }

  // Exactly once per message id. One older than the cursor that was never delivered (pushed out
  // of order) is delivered late rather than never.
  deliver(message) {
    if (this.deliveredIds.has(message.messageId)) return;
    this.deliveredIds.add(message.messageId);
    if (!this.sessionCursor || compareMessageIds(message.messageId, this.sessionCursor) > 0) {
      this.sessionCursor = message.messageId;
    }
    this.callbacks.onMessage(message, this.sessionId);
  }

  // --- REST reads ---------------------------------------------------------------------------

  // Reads from the cursor until `hasMore` is false, then delivers what was pushed meanwhile.
  // Asked for while a read runs, it is done again right after; the promise settles then.
  catchUp() {
    if (this.reading) {
      this.readAgain = true;
      return this.readDone;
    }
    this.reading = true;
    this.readDone = this.read();
    return this.readDone;
  }

  async read() {
    try {
      do {
        this.readAgain = false;
        await this.readPages(this.sessionId);
      } while (this.readAgain && this.currentState !== 'closed');
    } finally {
      this.reading = false;
      const pushed = this.pushedDuringRead;
      this.pushedDuringRead = [];
      if (this.currentState !== 'closed') pushed.forEach((message) => this.deliver(message));
    }
  }

  async readPages(sessionId) {
    if (!sessionId) return;
    for (;;) {
      const data = await this.readOnce(sessionId);
      if (!data?.hasMore) return;
    }
  }

  // One page from the cursor; null when there is nothing more to do (failed, stopped, or the
  // watched session changed meanwhile).
  async readOnce(sessionId) {
    const after = this.sessionCursor ? `?after=${encodeURIComponent(this.sessionCursor)}` : '';
    const [path, headers] = this.role === 'customer'
      ? [`/api/chat/poll/${encodeURIComponent(sessionId)}${after}`, { 'X-Chat-Token': valueOf(this.chatToken) }]
      : [`/api/admin/chat/messages/${encodeURIComponent(sessionId)}${after}`, { Authorization: `Bearer ${valueOf(this.agentToken)}` }];
    let data;
    try {
      data = await this.request('GET', path, headers);
    } catch (error) {
      if (this.currentState === 'closed' || sessionId !== this.sessionId) return null;
      this.callbacks.onError(error);
      if (REFUSED_STATUSES.has(error.status) && (this.role === 'customer' || error.status !== 404)) this.finish();
      return null;
    }
    if (this.currentState === 'closed' || sessionId !== this.sessionId) return null;
    for (const message of data.messages ?? []) this.deliver(message);
    this.callbacks.onSnapshot(data, sessionId);
    if (this.role === 'customer' && data.sessionEnded) {
      this.finish();
      return null;
    }
    return data;
  }

  async request(method, path, headers, body) {
    let response;
    try {
      response = await this.fetch(this.apiBase + path, {
        method,
        headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new PushClientError(0, 'NETWORK', 'Cannot reach the server');
    }
    let payload = null;
    try { payload = await response.json(); } catch { /* not JSON: the status says enough */ }
    if (!payload || payload.success !== true) {
      const error = payload?.error ?? {};
      throw new PushClientError(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? `Request failed (${response.status})`);
    }
    return payload.data;
  }

  // --- Small helpers ------------------------------------------------------------------------

  setState(state) {
    if (this.currentState === state) return;
    this.currentState = state;
    this.callbacks.onState(state);
  }

  clearTimers(...names) {
    for (const name of names) {
      if (this.timers[name] !== null) this.clearTimeout(this.timers[name]);
      this.timers[name] = null;
    }
  }
}

function valueOf(token) {
  return typeof token === 'function' ? token() : token;
}
