// The list of active chats: loading it (every waiting customer first, then the newest chats),
// patching it from list hints, "Load more", the Mine / Unassigned / All filter, and its render
// function.
import { noteRows } from './alerts.js';
import { api } from './api.js';
import { $, element } from './dom.js';
import { clock, displayName, since } from './format.js';
import { holderLine } from './holders.js';
import { patchList } from './list-patch.js';
import { emptyList, LIST_PAGE, notify, state } from './store.js';

// Every waiting customer first (up to WAITING_CAP, longest wait first), then the newest active
// chats, LIST_PAGE more per "Load more". API_PAGE is the API's largest page (99: a page's
// sessions and the counter are one read of at most 100 items); WAITING_CAP two pages.
const WAITING_CAP = 198;
const API_PAGE = 99;

// Runs list loads one at a time, so a refresh and a "Load more" never interleave their pages.
function serialized(task) {
  const run = state.listQueue.then(task);
  state.listQueue = run.catch(() => {});
  return run;
}

// The list query for the chosen filter (null: every active chat).
function listFilter() {
  if (state.filter === 'mine') return ['assignedTo', 'me'];
  if (state.filter === 'unassigned') return ['assignedTo', 'none'];
  return null;
}

// Up to `wanted` rows of one listing, following `nextCursor` from `cursor`; a row seen twice
// (a session whose wait began again while paging) is kept once.
async function fetchRows(filter, wanted, cursor = null) {
  const rows = new Map();
  let totalActive;
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

export function refreshSessions() {
  return serialized(loadSessions);
}

// Every refresh re-reads the waiting customers and as many of the newest chats as the agent has
// loaded so far (one request per 100 rows), rather than only the first page: kept older pages
// would go on showing chats that have ended or been answered, and new chats push rows from the
// fresh first page past the start of a kept second page, so some chats would show on neither.
async function loadSessions() {
  let waiting;
  let recent;
  // Filtered by holder, the list is that one listing alone; the waiting customers are still
  // read, for the notifications and the title's count.
  const filter = listFilter();
  try {
    [waiting, recent] = await Promise.all([
      fetchRows(['waiting', 'true'], WAITING_CAP),
      fetchRows(filter, state.list.recentWanted),
    ]);
    $('sessions-error').textContent = '';
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('sessions-error').textContent = `Could not load chats: ${error.message}`;
    throw error;
  }
  if (!state.auth) return;
  Object.assign(state.list, {
    waiting: filter ? [] : waiting.rows,
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
  noteRows([...waiting.rows, ...shown], { read: true, complete: waiting.cursor === null });
  listChanged(arrived.map((s) => s.sessionId));
}

// A list hint's rows (lists.changed), patched into the list without a read, after any read under
// way; a hint that could not carry every change (`truncated`) is a reason to read the list
// instead. A row with fewer messages than the one listed is older than it (a hint that crossed a
// read) and is left out.
export function applyListHint({ sessions, truncated }) {
  if (truncated) {
    noteRows(sessions);
    return refreshSessions();
  }
  return serialized(async () => {
    const current = sessions.filter((row) => !(state.sessions.get(row.sessionId)?.messageCount > row.messageCount));
    noteRows(current);
    const arrived = patchList(state.list, current, {
      filter: state.filter, adminId: state.auth?.admin.adminId, waitingCap: WAITING_CAP,
    }, state);
    listChanged(arrived);
  });
}

// New chats outside the chosen filter count, but are not announced here.
function listChanged(newIds) {
  const shown = shownSessions();
  state.sessions = new Map(shown.map((s) => [s.sessionId, s]));
  const arrivedIds = newIds.filter((id) => state.sessions.has(id));
  if (arrivedIds.length) {
    const first = state.sessions.get(arrivedIds[0]);
    $('notice').textContent = arrivedIds.length === 1 && first
      ? `New chat from ${displayName(first.userInfo)}`
      : `${arrivedIds.length} new chats`;
  }
  notify('list', new Set(arrivedIds));
}

// The waiting customers, then the other loaded chats newest first, each once.
function shownSessions() {
  const waitingIds = new Set(state.list.waiting.map((s) => s.sessionId));
  return [...state.list.waiting, ...state.list.recent.filter((s) => !waitingIds.has(s.sessionId))];
}

// The next LIST_PAGE of the newest-first list. Pages whose chats all show already (they wait)
// are skipped, so each click shows something new while there is more.
export function loadMore() {
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
      state.sessions = new Map(shown.map((s) => [s.sessionId, s]));
      notify('list', new Set());
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

export function setFilter(filter) {
  state.filter = filter;
  document.querySelectorAll('#list-filter button').forEach((button) => {
    button.setAttribute('aria-pressed', String(button.dataset.filter === filter));
  });
  state.list = emptyList();
  refreshSessions().catch(() => {});
}

// The list view, from `state.sessions`; `fresh`: the ids of chats that just arrived.
export function renderChatList(fresh) {
  const sessions = [...state.sessions.values()];
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

// The chat a click in the list chose, if any.
export function clickedSession(event) {
  return event.target.closest('#session-list button[data-session-id]')?.dataset.sessionId ?? null;
}
