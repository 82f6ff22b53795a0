// Support chat dashboard: sign in, watch active chats, answer them, end them.
// No framework: the page is small and the Lambda serves it as three static files.
'use strict';

const AUTH_KEY = 'supportChat.auth';
const SESSIONS_EVERY_MS = 5000;
const CHAT_EVERY_MS = 2000;
// The list: every waiting customer first (up to WAITING_CAP, longest wait first), then the
// newest active chats, LIST_PAGE more per "Load more". API_PAGE is the API's largest page (99:
// a page's sessions and the counter are one read of at most 100 items); WAITING_CAP two pages.
const WAITING_CAP = 198;
const LIST_PAGE = 50;
const API_PAGE = 99;
const LOGIN_PATH = '/api/admin/auth/login';
// Where the API is mounted as this page was reached: '/v1' on the execute-api URL, '' behind a
// custom domain. The server writes it into the page; every API call starts with it.
const BASE_PATH = document.querySelector('meta[name="api-base"]')?.content ?? '';

const $ = (id) => document.getElementById(id);

const state = {
  auth: null,            // { token, expiresAt, admin }
  sessions: new Map(),   // sessionId -> session from the list
  list: emptyList(),
  listQueue: Promise.resolve(), // list loads run one after another (refresh, "Load more")
  knownIds: new Set(),   // ids seen in the list so far
  newestStart: null,     // latest startTime seen by earlier refreshes (null before the first)
  openId: null,          // the chat on screen
  lastMessageId: null,   // cursor for the chat poll
  chatBusy: false,
  pending: null,         // { text, key }: a reply not yet confirmed, kept for a retry
  timers: [],
};

class ApiError extends Error {
  constructor(code, message, status, details) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (state.auth) headers.Authorization = `Bearer ${state.auth.token}`;
  let response;
  try {
    response = await fetch(BASE_PATH + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('NETWORK', 'Cannot reach the server. Check your connection.', 0);
  }
  let payload = null;
  try { payload = await response.json(); } catch { /* not JSON */ }
  if (response.status === 401 && path !== LOGIN_PATH) {
    signOut('Your sign-in has expired or was revoked. Please sign in again.');
    throw new ApiError('SIGNED_OUT', 'Signed out', 401);
  }
  if (!payload || payload.success !== true) {
    const error = (payload && payload.error) || {};
    throw new ApiError(error.code || `HTTP_${response.status}`, error.message || `Request failed (${response.status})`, response.status, error.details);
  }
  return payload.data;
}

// ---- formatting -------------------------------------------------------------------------

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
}

function since(iso) {
  const seconds = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function displayName(userInfo) {
  return (userInfo && userInfo.name) || 'Guest';
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- sign-in ------------------------------------------------------------------------------

function showLogin(message) {
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  $('login-password').value = '';
  $('login-email').focus();
}

async function signIn(event) {
  event.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  if (!email || !password) {
    $('login-error').textContent = 'Enter your email and password.';
    return;
  }
  $('login-submit').disabled = true;
  $('login-error').textContent = '';
  try {
    const data = await api('POST', LOGIN_PATH, { email, password });
    state.auth = { token: data.token, expiresAt: data.expiresAt, admin: data.admin };
    sessionStorage.setItem(AUTH_KEY, JSON.stringify(state.auth));
    showApp();
  } catch (error) {
    $('login-error').textContent = error.code === 'AUTH_FAILED'
      ? 'Wrong email or password.'
      : error.message;
  } finally {
    $('login-submit').disabled = false;
  }
}

function signOut(message) {
  state.timers.forEach(clearTimeout);
  state.timers = [];
  state.auth = null;
  state.openId = null;
  state.list = emptyList();
  state.sessions = new Map();
  state.knownIds = new Set();
  state.newestStart = null;
  sessionStorage.removeItem(AUTH_KEY);
  resetTeam();
  showLogin(message);
}

function every(ms, task) {
  const run = async () => {
    try { await task(); } catch (error) { if (error.code !== 'SIGNED_OUT') console.warn(error); }
    if (state.auth) state.timers.push(setTimeout(run, ms));
  };
  run();
}

function showApp() {
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('agent-name').textContent = `Signed in as ${state.auth.admin.name}`;
  const left = new Date(state.auth.expiresAt).getTime() - Date.now();
  state.timers.push(setTimeout(() => signOut('Your sign-in has expired. Please sign in again.'), Math.max(0, left)));
  every(SESSIONS_EVERY_MS, refreshSessions);
  every(CHAT_EVERY_MS, pollChat);
  startAnalytics(); // analytics.js
}

// ---- the list of active chats ------------------------------------------------------------

function emptyList() {
  return {
    waiting: [],            // customers awaiting an answer, longest wait first
    waitingCapped: false,   // more are waiting than WAITING_CAP
    recent: [],             // the newest active chats (waiting ones included), newest first
    recentWanted: LIST_PAGE, // how many of the newest the agent asked to see
    recentCursor: null,     // where "Load more" continues (null: the list is complete)
    totalActive: 0,
  };
}

// Runs list loads one at a time, so a refresh and a "Load more" never interleave their pages.
function serialized(task) {
  const run = state.listQueue.then(task);
  state.listQueue = run.catch(() => {});
  return run;
}

// Up to `wanted` rows of one listing, following `nextCursor` from `cursor`; a row seen twice
// (a session whose wait began again while paging) is kept once.
async function fetchRows(filter, wanted, cursor = null) {
  const rows = new Map();
  let totalActive = 0;
  do {
    const limit = Math.min(API_PAGE, wanted - rows.size);
    const query = new URLSearchParams({ limit: String(limit) });
    if (filter) query.set(...filter);
    if (cursor) query.set('cursor', cursor);
    const data = await api('GET', `/api/admin/chat/active-sessions?${query}`);
    for (const session of data.sessions) rows.set(session.sessionId, session);
    totalActive = data.totalActive;
    cursor = data.nextCursor || null;
  } while (cursor && rows.size < wanted);
  return { rows: [...rows.values()], cursor, totalActive };
}

function refreshSessions() {
  return serialized(loadSessions);
}

// Every refresh re-reads the waiting customers and as many of the newest chats as the agent has
// loaded so far (one request per 100 rows), rather than only the first page: kept older pages
// would go on showing chats that have ended or been answered, and new chats push rows from the
// fresh first page past the start of a kept second page, so some chats would show on neither.
async function loadSessions() {
  let waiting;
  let recent;
  try {
    // Filtered by holder (assignment.js), the list is that one listing alone.
    const filter = listFilter();
    [waiting, recent] = await Promise.all([
      filter ? { rows: [], cursor: null } : fetchRows(['waiting', 'true'], WAITING_CAP),
      fetchRows(filter, state.list.recentWanted),
    ]);
    $('sessions-error').textContent = '';
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('sessions-error').textContent = `Could not load chats: ${error.message}`;
    throw error;
  }
  if (!state.auth) return;
  Object.assign(state.list, {
    waiting: waiting.rows,
    waitingCapped: waiting.cursor !== null,
    recent: recent.rows,
    recentCursor: recent.cursor,
    totalActive: recent.totalActive,
  });
  const shown = shownSessions();
  // New chats: ones never seen that started after everything earlier refreshes saw (chats that
  // only come into view because others ended or were loaded are not new).
  const arrived = state.newestStart === null ? [] : shown.filter((s) => !state.knownIds.has(s.sessionId)
    && Date.parse(s.startTime) > state.newestStart);
  shown.forEach((s) => state.knownIds.add(s.sessionId));
  state.newestStart = Math.max(state.newestStart ?? 0, ...shown.map((s) => Date.parse(s.startTime)));
  if (arrived.length) {
    $('notice').textContent = arrived.length === 1
      ? `New chat from ${displayName(arrived[0].userInfo)}`
      : `${arrived.length} new chats`;
  }
  renderSessions(shown, new Set(arrived.map((s) => s.sessionId)));
}

// The waiting customers, then the other loaded chats newest first, each once.
function shownSessions() {
  const waitingIds = new Set(state.list.waiting.map((s) => s.sessionId));
  return [...state.list.waiting, ...state.list.recent.filter((s) => !waitingIds.has(s.sessionId))];
}

// The next LIST_PAGE of the newest-first list. Pages whose chats all show already (they wait)
// are skipped, so each click shows something new while there is more.
function loadMore() {
  return serialized(async () => {
    const list = state.list;
    if (!list.recentCursor) return;
    const before = new Set(shownSessions().map((s) => s.sessionId));
    $('load-more').disabled = true;
    try {
      let added = [];
      while (list.recentCursor && added.length === 0) {
        const page = await fetchRows(listFilter(), LIST_PAGE, list.recentCursor);
        const have = new Set(list.recent.map((s) => s.sessionId));
        const fresh = page.rows.filter((s) => !have.has(s.sessionId));
        list.recent.push(...fresh);
        list.recentWanted += LIST_PAGE;
        list.recentCursor = page.cursor;
        list.totalActive = page.totalActive;
        added = fresh.filter((s) => !before.has(s.sessionId));
      }
      if (state.list !== list) return; // signed out meanwhile
      $('sessions-error').textContent = '';
      const shown = shownSessions();
      shown.forEach((s) => state.knownIds.add(s.sessionId));
      renderSessions(shown, new Set());
      // Keyboard users continue where the new chats begin (or at the end, if none came).
      const buttons = $('session-list').querySelectorAll('button');
      const first = added[0] && $('session-list').querySelector(`[data-session-id="${CSS.escape(added[0].sessionId)}"]`);
      if (first) first.focus();
      else if ($('load-more').hidden && buttons.length) buttons[buttons.length - 1].focus();
    } catch (error) {
      if (error.code !== 'SIGNED_OUT') $('sessions-error').textContent = `Could not load more chats: ${error.message}`;
    } finally {
      $('load-more').disabled = false;
    }
  });
}

function renderSessions(sessions, fresh) {
  state.sessions = new Map(sessions.map((s) => [s.sessionId, s]));
  const list = $('session-list');
  const buttons = [...list.querySelectorAll('button')];
  const focused = document.activeElement && document.activeElement.dataset.sessionId;
  const focusedAt = focused ? buttons.findIndex((b) => b.dataset.sessionId === focused) : -1;
  list.replaceChildren(...sessions.map((session) => {
    const item = element('li');
    const button = element('button', session.waitingSince ? 'waiting' : '');
    button.type = 'button';
    button.dataset.sessionId = session.sessionId;
    if (fresh.has(session.sessionId)) button.classList.add('fresh');
    if (session.sessionId === state.openId) button.setAttribute('aria-current', 'true');
    button.append(
      element('span', 'name', displayName(session.userInfo)),
      element('span', 'muted', session.userInfo.email || 'No email given'),
      element('span', 'muted', `Started ${clock(session.startTime)} · ${since(session.startTime)} · ${session.messageCount} ${session.messageCount === 1 ? 'message' : 'messages'}`),
    );
    if (session.waitingSince) button.append(element('span', 'wait', `Waiting ${since(session.waitingSince)} for a reply`));
    button.append(holderLine(session));
    if (session.lastMessage) {
      const who = session.lastMessage.sender === 'admin' ? 'Support: ' : '';
      button.append(element('span', 'preview', who + session.lastMessage.message));
    }
    button.addEventListener('click', () => openChat(session.sessionId));
    item.append(button);
    return item;
  }));
  const { totalActive, recentCursor, waitingCapped } = state.list;
  $('session-count').textContent = `${totalActive} active`;
  $('sessions-empty').hidden = sessions.length > 0;
  const complete = !recentCursor || sessions.length >= totalActive;
  let shownText = sessions.length && !complete ? `Showing ${sessions.length} of ${totalActive} active chats.` : '';
  if (waitingCapped) shownText += ` More than ${WAITING_CAP} customers are waiting: the ${WAITING_CAP} longest waits come first, the others among the rest.`;
  $('sessions-shown').textContent = shownText.trim();
  $('load-more').hidden = complete;
  // The list is rebuilt on every refresh: focus stays on the same chat, or, if it has left the
  // list, on the one now in its place.
  if (focusedAt >= 0) {
    const again = list.querySelector(`[data-session-id="${CSS.escape(focused)}"]`)
      || list.querySelectorAll('button')[Math.min(focusedAt, sessions.length - 1)];
    if (again) again.focus();
  }
}

// ---- one chat ------------------------------------------------------------------------------

async function openChat(sessionId) {
  state.openId = sessionId;
  state.lastMessageId = null;
  state.pending = null;
  $('transcript').replaceChildren();
  $('reply-text').value = '';
  $('reply-error').textContent = '';
  $('reply-force').hidden = true;
  $('assignment-error').textContent = '';
  $('chat-status').textContent = '';
  $('chat-empty').hidden = true;
  $('chat-open').hidden = false;
  const listed = state.sessions.get(sessionId);
  $('chat-title').textContent = listed ? `Chat with ${displayName(listed.userInfo)}` : 'Chat';
  document.querySelectorAll('#session-list button').forEach((b) => {
    if (b.dataset.sessionId === sessionId) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  });
  // The first read has no cursor: the whole transcript, and the server logs the view.
  await pollChat();
  $('reply-text').focus();
}

async function pollChat() {
  const sessionId = state.openId;
  if (!sessionId || state.chatBusy) return;
  state.chatBusy = true;
  try {
    const after = state.lastMessageId ? `?after=${encodeURIComponent(state.lastMessageId)}` : '';
    const data = await api('GET', `/api/admin/chat/messages/${encodeURIComponent(sessionId)}${after}`);
    if (state.openId !== sessionId) return;
    renderDetails(data.session);
    appendMessages(data.messages);
    // team-extras.js shows the typing line and read ticks from it.
    document.dispatchEvent(new CustomEvent('chat:transcript', { detail: { sessionId, data } }));
  } catch (error) {
    if (error.code === 'SESSION_NOT_FOUND' && state.openId === sessionId) {
      $('chat-status').textContent = 'This chat no longer exists.';
    }
    throw error;
  } finally {
    state.chatBusy = false;
  }
}

function appendMessages(messages) {
  const transcript = $('transcript');
  for (const message of messages) {
    if (transcript.querySelector(`[data-message-id="${CSS.escape(message.messageId)}"]`)) continue;
    const item = element('li', message.sender === 'admin' ? 'admin' : 'user');
    item.dataset.messageId = message.messageId;
    const who = message.sender === 'admin' ? 'Support' : 'Customer';
    item.append(element('span', 'meta', `${who} · ${clock(message.timestamp)}`), document.createTextNode(message.message));
    transcript.append(item);
    state.lastMessageId = message.messageId;
  }
  if (messages.length) transcript.scrollTop = transcript.scrollHeight;
}

function renderDetails(session) {
  const email = session.userInfo.email ? `${session.userInfo.email} · ` : '';
  $('chat-title').textContent = `Chat with ${displayName(session.userInfo)}`;
  $('chat-meta').textContent = `${email}started ${clock(session.startTime)} · session ${session.sessionId}`;
  const active = session.status === 'active';
  renderAssignment(session);
  $('end-chat').hidden = !active;
  $('reply-form').hidden = !active;
  if (active) {
    $('chat-status').textContent = '';
    return;
  }
  let text = `${['This chat ended', endedHow(session), 'at'].filter(Boolean).join(' ')} ${clock(session.endTime)}.`;
  if (session.rating) {
    text += ` Rating: ${session.rating} of 5.`;
    if (session.feedback) text += ` Feedback: “${session.feedback}”`;
  } else {
    text += ' No rating yet.';
  }
  $('chat-status').textContent = text;
}

const END_REASONS = { user: 'by the customer', idle: 'after inactivity', admin: 'by support' };

// Why an ended chat ended. Sessions ended before the API gave `endReason` tell it by status
// (an idle end has the customer's status, "ended", so only `endReason` can tell it apart).
function endedHow(session) {
  const reason = session.endReason || (session.status === 'ended_by_admin' ? 'admin' : 'user');
  return END_REASONS[reason] || '';
}

function newMessageKey() {
  return `msg_admin_${crypto.randomUUID().replaceAll('-', '')}`;
}

// `force`: the agent chose "Send anyway" in a chat another agent holds.
async function sendReply(event, force = false) {
  event.preventDefault();
  const sessionId = state.openId;
  const text = $('reply-text').value.trim();
  if (!sessionId || !text || $('reply-send').disabled) return;
  // A retry of the same text reuses its key, so a reply that did arrive is not stored twice.
  if (!state.pending || state.pending.text !== text) state.pending = { text, key: newMessageKey() };
  $('reply-send').disabled = true;
  $('reply-send').textContent = 'Sending…';
  $('reply-error').textContent = '';
  try {
    await api('POST', '/api/admin/chat/message', {
      sessionId, message: text, sender: 'admin', timestamp: new Date().toISOString(), messageId: state.pending.key,
      ...(force ? { force: true } : {}),
    });
    state.pending = null;
    $('reply-force').hidden = true;
    if (state.openId === sessionId) $('reply-text').value = '';
    await pollChat().catch(() => {});
    await refreshSessions().catch(() => {});
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('reply-error').textContent = replyRefusal(error) || `Not sent: ${error.message}. Your text is kept; try again.`;
  } finally {
    $('reply-send').disabled = false;
    $('reply-send').textContent = 'Send';
  }
}

async function endChat() {
  const sessionId = state.openId;
  const listed = state.sessions.get(sessionId);
  const name = listed ? displayName(listed.userInfo) : 'this customer';
  if (!sessionId || !window.confirm(`End the chat with ${name}? They will be asked to rate it.`)) return;
  $('end-chat').disabled = true;
  try {
    await api('POST', '/api/admin/chat/session/end', { sessionId });
    await pollChat().catch(() => {});
    await refreshSessions().catch(() => {});
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('chat-status').textContent = `Could not end the chat: ${error.message}`;
  } finally {
    $('end-chat').disabled = false;
  }
}

// ---- start ---------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => signOut('You are signed out.'));
  $('reply-form').addEventListener('submit', sendReply);
  $('reply-text').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) sendReply(event);
  });
  $('end-chat').addEventListener('click', endChat);
  $('reply-force').addEventListener('click', (event) => sendReply(event, true));
  $('load-more').addEventListener('click', loadMore);
  try { state.auth = JSON.parse(sessionStorage.getItem(AUTH_KEY)); } catch { state.auth = null; }
  if (state.auth && new Date(state.auth.expiresAt).getTime() > Date.now()) showApp();
  else signOut('');
});
