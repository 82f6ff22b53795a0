// Support chat dashboard: sign in, watch active chats, answer them, end them. No framework: ES
// modules around one state store (store.js). This module is the shell: it subscribes each
// view's render function to the store, wires the page's controls to the actions, and starts.
import {
  attentionReturned, enableNotifications, forgetAlerts, renderAlertControls, toggleSound,
} from './alerts.js';
import { renderAnalytics, refreshAnalytics, startAnalytics } from './analytics.js';
import { claim, release, renderAssignment, transfer } from './assignment.js';
import { closePicker, onPickerKey, onTranscript, setUpPicker, updatePicker } from './canned-replies.js';
import { acknowledgeOwed, endChat, openChat, pollChat, renderChat, sendReply } from './chat.js';
import { clickedSession, loadMore, refreshSessions, renderChatList, setFilter } from './chat-list.js';
import { $ } from './dom.js';
import { renderLive, startLive, stopLive, viewLive, wakeLive } from './live.js';
import { renderSignIn, signIn } from './sign-in.js';
import { after, every, restoreAuth, signOut, state, subscribe } from './store.js';
import { renderTyping, signalTyping } from './typing.js';

// While push is down (or not configured) the list and the open chat poll; while it is live, only
// a slow safety read runs, in case a hint was lost.
const SESSIONS_EVERY_MS = 5000;
const CHAT_EVERY_MS = 2000;
const SAFETY_READ_EVERY_MS = 5 * 60_000;
// The customer's rating is not pushed: an open chat that ended without one yet is read every 5 s
// for 10 minutes after its end (most ratings come within a minute or two).
const RATING_READ_EVERY_MS = 5000;
const RATING_AWAITED_MS = 10 * 60_000;
const polls = { list: null, chat: null, wasLive: false, awaitingRating: false };

const whileLive = (ms) => () => (state.live === 'live' ? SAFETY_READ_EVERY_MS : ms);

function awaitingRating(session) {
  return Boolean(session && session.status !== 'active' && !session.rating
    && Date.now() - Date.parse(session.endTime) < RATING_AWAITED_MS);
}

function chatInterval() {
  if (state.live === 'live' && polls.awaitingRating) return RATING_READ_EVERY_MS;
  return whileLive(CHAT_EVERY_MS)();
}

function watchRating({ data }) {
  const awaiting = Boolean(data) && awaitingRating(data.session);
  if (!data || awaiting === polls.awaitingRating) return;
  polls.awaitingRating = awaiting;
  polls.chat?.reschedule();
}

// The signed-in view, and what runs while it shows.
function renderApp() {
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('agent-name').textContent = `Signed in as ${state.auth.admin.name}`;
  const left = new Date(state.auth.expiresAt).getTime() - Date.now();
  after(Math.max(0, left), () => signOut('Your sign-in has expired. Please sign in again.'));
  renderAlertControls();
  renderLive();
  polls.wasLive = false;
  polls.list = every(whileLive(SESSIONS_EVERY_MS), refreshSessions);
  polls.chat = every(chatInterval, pollChat);
  startAnalytics();
  startLive();
}

// Live: what happened while connecting is read now (push only brings what comes after). No
// longer live: the polls start at once rather than at the end of a safety wait.
function liveChanged() {
  renderLive();
  const live = state.live === 'live';
  if (live === polls.wasLive) return;
  polls.wasLive = live;
  polls.list?.now();
  polls.chat?.now();
}

subscribe('signed-in', renderApp);
subscribe('signed-out', (message) => {
  stopLive();
  forgetAlerts();
  renderSignIn(message);
});
subscribe('live', liveChanged);
subscribe('open-chat', (sessionId) => openChat(sessionId).catch(() => {}));
subscribe('list', renderChatList);
subscribe('transcript', renderChat);
subscribe('transcript', renderAssignment);
subscribe('transcript', onTranscript);
subscribe('transcript', renderTyping);
subscribe('transcript', watchRating);
subscribe('transcript', ({ sessionId }) => viewLive(sessionId));
subscribe('analytics', renderAnalytics);

$('login-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', () => signOut('You are signed out.'));
$('session-list').addEventListener('click', (event) => {
  const sessionId = clickedSession(event);
  if (sessionId) openChat(sessionId);
});
$('load-more').addEventListener('click', loadMore);
document.querySelectorAll('#list-filter button').forEach((button) => {
  button.addEventListener('click', () => setFilter(button.dataset.filter));
});
$('end-chat').addEventListener('click', endChat);
$('claim-chat').addEventListener('click', claim);
$('release-chat').addEventListener('click', release);
$('transfer').addEventListener('submit', transfer);
setUpPicker();
// The picker sees keys first (capture on the form), then Enter sends.
$('reply-form').addEventListener('keydown', onPickerKey, true);
$('reply-form').addEventListener('submit', sendReply);
$('reply-text').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) sendReply(event);
});
$('reply-text').addEventListener('input', () => {
  signalTyping();
  updatePicker();
});
$('reply-text').addEventListener('blur', () => closePicker());
$('reply-force').addEventListener('click', (event) => sendReply(event, true));
$('analytics-range').addEventListener('change', () => refreshAnalytics().catch(() => {}));
$('notify-enable').addEventListener('click', enableNotifications);
$('sound-toggle').addEventListener('click', toggleSound);
// Back from sleep, on the network again, or looked at again: check the connection now, and
// withdraw the notifications of what is on screen.
window.addEventListener('online', wakeLive);
function lookedAgain() {
  attentionReturned();
  acknowledgeOwed();
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  wakeLive();
  lookedAgain();
});
window.addEventListener('focus', lookedAgain);
// Gone offline: a ping finds out at once whether the connection survived.
window.addEventListener('offline', wakeLive);

if (restoreAuth()) renderApp();
else signOut('');
