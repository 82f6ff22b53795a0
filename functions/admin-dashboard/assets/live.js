// The dashboard on the push channel (docs/asyncapi.yaml): pushed events move the list and the
// open chat as they happen. While the connection is healthy nothing polls but a slow safety
// read; while it is not, the list and the chat poll as before (app.js picks the interval from
// `state.live`), and the page says which. Push is a hint: every (re)connect is followed by a
// read of the list and the open chat, which fills any gap.
import { applyListHint } from './chat-list.js';
import { BASE_PATH } from './api.js';
import { pollChat, receivePushedMessage } from './chat.js';
import { $ } from './dom.js';
import { PushClient } from './push-client.js';
import { notify, state } from './store.js';
import { showPushedSignal } from './typing.js';

const SAYS = {
  off: 'Updates every few seconds',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Updates every few seconds',
};

// How long the page waits for a message's push before reading it (a hint may come first).
const PUSH_GRACE_MS = 1500;

let client = null;
// A clock that jumped between two ticks means the machine slept: the connection is checked then.
const SLEEP_CHECK_EVERY_MS = 15_000;
const SLEPT_AFTER_MS = 45_000;
let sleepCheck = null;

// Whether this deployment has a push channel (the page says so: no URL, no channel).
const configured = () => document.querySelector('meta[name="push"]')?.content === 'on';

export function startLive() {
  stopLive();
  if (!configured() || typeof WebSocket !== 'function') {
    setLive('off');
    return;
  }
  client = new PushClient({
    role: 'agent',
    apiBase: BASE_PATH,
    agentToken: () => state.auth?.token,
    onState: (clientState) => setLive(liveState(clientState)),
    onEvent: receive,
  });
  if (state.openId) client.view(state.openId);
  client.start();
  let last = Date.now();
  sleepCheck = setInterval(() => {
    if (Date.now() - last > SLEPT_AFTER_MS) wakeLive();
    last = Date.now();
  }, SLEEP_CHECK_EVERY_MS);
}

export function stopLive() {
  clearInterval(sleepCheck);
  sleepCheck = null;
  const stopping = client;
  client = null;
  stopping?.stop();
}

// The network is back, or the laptop woke: check the connection now rather than at the next ping.
export function wakeLive() {
  client?.wake();
}

// The chat on screen: its events come to this connection too, whoever holds it.
export function viewLive(sessionId) {
  client?.view(sessionId);
}

function liveState(clientState) {
  if (clientState === 'push') return 'live';
  if (clientState === 'polling') return 'polling';
  if (clientState === 'closed') return 'off';
  return state.live === 'live' || state.live === 'reconnecting' ? 'reconnecting' : 'connecting';
}

function setLive(live) {
  if (state.live === live) return;
  state.live = live;
  notify('live', live);
}

export function renderLive() {
  const line = $('live-state');
  line.textContent = SAYS[state.live];
  line.dataset.state = state.live;
}

function receive(frame) {
  switch (frame.type) {
    case 'lists.changed':
      applyListHint(frame.data).then(() => {
        // A truncated hint may have left the open chat's row out: the list read has it.
        const open = state.sessions.get(state.openId);
        if (frame.data.truncated && open) openChatChanged(open);
      }).catch(() => {});
      for (const row of frame.data.sessions) if (row.sessionId === state.openId) openChatChanged(row);
      return;
    case 'message.created':
      receivePushedMessage(frame.sessionId, frame.data);
      return;
    case 'typing':
    case 'read':
      showPushedSignal(frame);
      return;
    // The chat's header shows its holder and its end (with the rating), not its wait.
    case 'session.assigned':
    case 'session.ended':
      if (frame.sessionId === state.openId) pollChat().catch(() => {});
      return;
    default:
  }
}

// The open chat's row changed: read it when something shown there moved (the holder, the end,
// a message). This connection views the open chat, so its messages come pushed: a missing one
// is read only if its push has not come a moment later (lost, or sent before the view).
function openChatChanged(row) {
  const shown = state.openSession;
  const holderMoved = (row.assignedTo?.adminId ?? null) !== (shown?.assignedTo?.adminId ?? null);
  if (!shown || holderMoved || row.status !== shown.status) {
    pollChat().catch(() => {});
    return;
  }
  const missing = () => row.sessionId === state.openId && row.lastMessage
    && !state.messageIds.has(row.lastMessage.messageId);
  if (!missing()) return;
  setTimeout(() => {
    if (missing()) pollChat().catch(() => {});
  }, PUSH_GRACE_MS);
}
