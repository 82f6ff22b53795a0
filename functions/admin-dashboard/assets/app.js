// Support chat dashboard: sign in, watch active chats, answer them, end them. No framework: ES
// modules around one state store (store.js). This module is the shell: it subscribes each
// view's render function to the store, wires the page's controls to the actions, and starts.
import { renderAnalytics, refreshAnalytics, startAnalytics } from './analytics.js';
import { claim, release, renderAssignment, transfer } from './assignment.js';
import { closePicker, onPickerKey, onTranscript, setUpPicker, updatePicker } from './canned-replies.js';
import { endChat, openChat, pollChat, renderChat, sendReply } from './chat.js';
import { clickedSession, loadMore, refreshSessions, renderChatList, setFilter } from './chat-list.js';
import { $ } from './dom.js';
import { renderSignIn, signIn } from './sign-in.js';
import { after, every, restoreAuth, signOut, state, subscribe } from './store.js';
import { renderTyping, signalTyping } from './typing.js';

const SESSIONS_EVERY_MS = 5000;
const CHAT_EVERY_MS = 2000;

// The signed-in view, and what runs while it shows.
function renderApp() {
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('agent-name').textContent = `Signed in as ${state.auth.admin.name}`;
  const left = new Date(state.auth.expiresAt).getTime() - Date.now();
  after(Math.max(0, left), () => signOut('Your sign-in has expired. Please sign in again.'));
  every(SESSIONS_EVERY_MS, refreshSessions);
  every(CHAT_EVERY_MS, pollChat);
  startAnalytics();
}

subscribe('signed-in', renderApp);
subscribe('signed-out', renderSignIn);
subscribe('list', renderChatList);
subscribe('transcript', renderChat);
subscribe('transcript', renderAssignment);
subscribe('transcript', onTranscript);
subscribe('transcript', renderTyping);
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

if (restoreAuth()) renderApp();
else signOut('');
