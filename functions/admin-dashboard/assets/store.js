// The dashboard's one state store: everything the page knows, and who wants to hear when a part
// of it changes. Modules change `state`, then `notify(topic, detail)`; each view subscribes its
// render function to the topics it shows (app.js wires them).
//
// Topics: 'signed-in', 'signed-out' (detail: the message for the sign-in form), 'list' (detail:
// the ids of newly arrived chats), 'transcript' (detail: { sessionId, data, added }: a read of
// the open chat; `data` is null when a push brought `added`), 'analytics' (detail: the summary),
// 'live' (the push connection's state changed: `state.live`), 'alerts' (what the tab title and
// the notifications announce changed).

const AUTH_KEY = 'supportChat.auth';
// How many more of the newest chats each "Load more" shows (and the first screen holds).
export const LIST_PAGE = 50;

export function emptyList() {
  return {
    waiting: [],            // customers awaiting an answer, longest wait first
    waitingCapped: false,   // more are waiting than the list reads
    recent: [],             // the newest active chats (waiting ones included), newest first
    recentWanted: LIST_PAGE, // how many of the newest the agent asked to see
    recentCursor: null,     // where "Load more" continues (null: the list is complete)
    totalActive: 0,
  };
}

export const state = {
  auth: null,            // { token, expiresAt, admin }
  timers: [],            // what runs while signed in (cleared on sign-out)
  repeaters: [],         // the `every` tasks (stopped on sign-out)
  // The push channel: 'off' (not configured), 'connecting', 'live', 'reconnecting', 'polling'.
  live: 'off',
  // The list of active chats.
  list: emptyList(),
  sessions: new Map(),   // sessionId -> session as shown in the list
  listQueue: Promise.resolve(), // list loads run one after another (refresh, "Load more")
  knownIds: new Set(),   // ids seen in the list so far
  endedIds: new Set(),   // ids a list hint said ended (each lowers the active count once)
  newestStart: null,     // latest startTime seen by earlier refreshes (null before the first)
  filter: 'all',         // 'all' | 'mine' | 'unassigned'
  // The open chat.
  openId: null,          // the chat on screen
  messageIds: new Set(), // messages in its transcript on screen
  lastMessageId: null,   // cursor for the chat poll
  chatBusy: false,
  chatAgain: false,      // a read was asked for while one ran: read again right after
  acknowledgeTimer: null, // the read that will mark pushed customer messages seen
  unacknowledgedFrom: undefined, // the cursor before the first pushed customer message not yet read
  pending: null,         // { text, key }: a reply not yet confirmed, kept for a retry
  agents: null,          // the active agents, loaded once per sign-in for the transfer picker
  // The customer's typing and read ticks in the open chat.
  typing: {
    sessionId: null,     // the chat the typing line and ticks describe
    readUpTo: null,      // newest support message the customer's polls have returned
    lastSignal: 0,       // when this agent last signalled typing (ms)
  },
  // The canned-reply picker.
  canned: {
    sessionId: null,     // the chat the picker was last open in
    replies: null,       // the team's canned replies, once loaded
    loading: null,
    matches: [],         // the picker's options
    active: -1,          // the highlighted option
    dismissed: null,     // the reply-box text the agent closed the picker on (Escape)
  },
  analytics: null,       // the last summary shown
  // What the notifications and the tab title know (alerts.js).
  alerts: {
    seen: new Map(),     // sessionId -> { waiting, mineOrFree, lastUserMessageId } of active chats
    baseline: false,     // false until the first list read: nothing is announced before it
    shown: new Map(),    // sessionId -> the notification on screen for that chat (one per chat)
  },
  openSession: null,     // the open chat's session, as its last read returned it
};

const listeners = new Map();

export function subscribe(topic, listener) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(listener);
}

export function notify(topic, detail) {
  for (const listener of listeners.get(topic) ?? []) listener(detail);
}

// ---- signing in and out --------------------------------------------------------------------

// The sign-in kept for this tab, if it has not expired.
export function restoreAuth() {
  try { state.auth = JSON.parse(sessionStorage.getItem(AUTH_KEY)); } catch { state.auth = null; }
  return Boolean(state.auth && new Date(state.auth.expiresAt).getTime() > Date.now());
}

export function signedIn(auth) {
  state.auth = auth;
  sessionStorage.setItem(AUTH_KEY, JSON.stringify(auth));
  notify('signed-in');
}

export function signOut(message) {
  state.timers.forEach(clearTimeout);
  state.timers = [];
  state.repeaters.forEach((repeater) => repeater.stop());
  state.repeaters = [];
  state.auth = null;
  state.openId = null;
  state.list = emptyList();
  state.sessions = new Map();
  state.knownIds = new Set();
  state.endedIds = new Set();
  state.newestStart = null;
  state.agents = null;
  sessionStorage.removeItem(AUTH_KEY);
  notify('signed-out', message);
}

// Runs `task` now and then `interval()` ms after each run settles (`interval` may be a number),
// while signed in. `now()` runs it at once (or right after the run under way) and starts the wait
// anew: for when the interval just got shorter, or something says the data changed;
// `reschedule()` only starts the wait anew.
export function every(interval, task) {
  const wait = typeof interval === 'function' ? interval : () => interval;
  let timer = null;
  let running = false;
  let again = false;
  let stopped = false;
  const run = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = true;
    try { await task(); } catch (error) { if (error.code !== 'SIGNED_OUT') console.warn(error); }
    running = false;
    if (stopped || !state.auth) return;
    if (again) {
      again = false;
      run();
    } else {
      timer = setTimeout(run, wait());
    }
  };
  // The interval changed: the wait under way is replaced by one of the new length.
  const reschedule = () => {
    if (stopped || running || !state.auth) return;
    clearTimeout(timer);
    timer = setTimeout(run, wait());
  };
  const repeater = { now: run, reschedule, stop: () => { stopped = true; clearTimeout(timer); } };
  state.repeaters.push(repeater);
  run();
  return repeater;
}

// After `ms`, unless signed out first.
export function after(ms, task) {
  state.timers.push(setTimeout(task, ms));
}
