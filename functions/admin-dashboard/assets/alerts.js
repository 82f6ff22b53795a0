// Telling an agent who is not looking: a browser notification per chat (asked for on a click,
// never on load), the count of chats waiting for an answer in the tab's title, and an optional
// short sound (off by default, remembered per browser). Announced: a customer newly waiting, or
// a customer message, in a chat this agent holds or nobody holds; never this agent's own actions
// or chats held by someone else.
import { $ } from './dom.js';
import { displayName } from './format.js';
import { isMe } from './holders.js';
import { notify, state } from './store.js';

const SOUND_KEY = 'supportChat.sound';
const TITLE = document.title;
const BODY_CHARS = 120;

let audio = null;

const notificationsSupported = () => typeof window.Notification === 'function';
export const attended = () => document.visibilityState === 'visible' && document.hasFocus();

// The agent's own chats and those nobody holds concern them; others' chats do not.
function concerns(row) {
  return !row.assignedTo || isMe(row.assignedTo);
}

// Message ids sort by length, then as text.
const newer = (a, b) => a.length > b.length || (a.length === b.length && a > b);

// Rows from a list read (`read`) or a list hint. `complete`: `rows` hold every waiting customer,
// so a chat missing from them waits no more. Until the first read has landed nothing is
// announced (a hint may come before it; the read then names chats that were always there).
export function noteRows(rows, { read = false, complete = false } = {}) {
  const { seen } = state.alerts;
  const announce = [];
  const listed = new Set();
  for (const row of rows) {
    listed.add(row.sessionId);
    const before = seen.get(row.sessionId);
    if (row.status !== 'active') {
      seen.delete(row.sessionId);
      withdraw(row.sessionId);
      continue;
    }
    const last = row.lastMessage;
    const userMessage = last?.sender === 'user' ? last.messageId : null;
    const now = {
      waiting: Boolean(row.waitingSince),
      mineOrFree: concerns(row),
      lastUserMessageId: userMessage && (!before?.lastUserMessageId || newer(userMessage, before.lastUserMessageId))
        ? userMessage : before?.lastUserMessageId ?? null,
    };
    seen.set(row.sessionId, now);
    if (!state.alerts.baseline || !now.mineOrFree) continue;
    const newlyWaiting = now.waiting && !before?.waiting;
    const newMessage = Boolean(before) && now.lastUserMessageId !== before.lastUserMessageId;
    if (newlyWaiting || newMessage) announce.push({ row, newMessage });
  }
  if (complete) {
    for (const [sessionId, known] of seen) if (!listed.has(sessionId)) known.waiting = false;
  }
  if (read) state.alerts.baseline = true;
  renderTitle();
  if (!attended()) announce.forEach(({ row }) => raise(row));
}

// "(3) Support chat dashboard": the chats waiting for an answer that concern this agent.
function renderTitle() {
  let waiting = 0;
  for (const known of state.alerts.seen.values()) if (known.waiting && known.mineOrFree) waiting += 1;
  document.title = waiting ? `(${waiting}) ${TITLE}` : TITLE;
}

function raise(row) {
  if (soundOn()) beep();
  if (!notificationsSupported() || Notification.permission !== 'granted') return;
  const { shown } = state.alerts;
  const name = displayName(row.userInfo);
  const said = row.lastMessage?.sender === 'user';
  const title = said ? `New message from ${name}` : `${name} is waiting for an answer`;
  const body = said ? row.lastMessage.message.slice(0, BODY_CHARS) : 'A new chat.';
  withdraw(row.sessionId);
  // The tag makes the system replace rather than stack; closing the old one makes it so
  // where tags are ignored.
  const notification = new Notification(title, { body, tag: `chat-${row.sessionId}` });
  notification.onclick = () => {
    window.focus();
    withdraw(row.sessionId);
    notify('open-chat', row.sessionId);
  };
  notification.onclose = () => {
    if (state.alerts.shown.get(row.sessionId) === notification) state.alerts.shown.delete(row.sessionId);
  };
  shown.set(row.sessionId, notification);
}

function withdraw(sessionId) {
  const { shown } = state.alerts;
  const notification = shown.get(sessionId);
  if (!notification) return;
  shown.delete(sessionId);
  notification.close();
}

// The agent is back: what they were told about is on screen now.
function withdrawAll() {
  [...state.alerts.shown.keys()].forEach(withdraw);
}

// A short, quiet tone, made rather than loaded (no media host in the page's policy).
function beep() {
  const Context = window.AudioContext;
  if (!Context) return;
  audio ??= new Context();
  // A context made before any click on this page (a restored sign-in) starts suspended.
  audio.resume().catch(() => {});
  const tone = audio.createOscillator();
  const volume = audio.createGain();
  tone.frequency.value = 880;
  volume.gain.value = 0.05;
  tone.connect(volume).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.15);
}

function soundOn() {
  return localStorage.getItem(SOUND_KEY) === 'on';
}

export function renderAlertControls() {
  const supported = notificationsSupported();
  const permission = supported ? Notification.permission : 'unsupported';
  $('notify-enable').hidden = permission !== 'default';
  $('notify-state').textContent = {
    granted: 'Notifications on while this tab is in the background.',
    denied: 'Notifications are blocked in this browser; the tab title still counts waiting chats.',
    unsupported: 'This browser cannot show notifications; the tab title counts waiting chats.',
    default: '',
  }[permission];
  $('sound-toggle').setAttribute('aria-pressed', String(soundOn()));
}

// Only ever on the agent's click: browsers refuse (and users dislike) a prompt on load.
export async function enableNotifications() {
  if (!notificationsSupported()) return;
  try { await Notification.requestPermission(); } catch { /* the answer stays "default" */ }
  renderAlertControls();
  // The button is gone once answered: keyboard focus goes on to the next control.
  if ($('notify-enable').hidden) $('sound-toggle').focus();
}

export function toggleSound() {
  localStorage.setItem(SOUND_KEY, soundOn() ? 'off' : 'on');
  renderAlertControls();
  if (soundOn()) beep();
}

export function attentionReturned() {
  if (attended()) withdrawAll();
}

export function forgetAlerts() {
  withdrawAll();
  state.alerts.seen = new Map();
  state.alerts.baseline = false;
  document.title = TITLE;
}
