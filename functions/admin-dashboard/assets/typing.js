// Signs of life in the open chat: the customer's typing under the transcript, read ticks on
// support messages, and this agent's own typing, signalled while composing.
import { api } from './api.js';
import { $, element } from './dom.js';
import { displayName } from './format.js';
import { state } from './store.js';

const TYPING_SIGNAL_EVERY_MS = 3000; // the server keeps one write per 3 s anyway
// How long a pushed typing signal shows (the customer's app signals at most every 3 s).
const TYPING_SHOWN_MS = 5000;
let typingTimer = null;

function typingLine() {
  let line = $('typing-line');
  if (!line) {
    line = element('p', 'typing-line muted');
    line.id = 'typing-line';
    line.setAttribute('role', 'status');
    line.setAttribute('aria-live', 'polite');
    $('transcript').after(line);
  }
  return line;
}

function showTyping(text) {
  clearTimeout(typingTimer);
  typingLine().textContent = text;
}

// Every transcript read carries `customerTyping` and `customerReadUpTo`; a pushed message
// carries neither, but one from the customer ends their typing.
export function renderTyping({ sessionId, data, added }) {
  const typing = state.typing;
  if (sessionId !== typing.sessionId) {
    typing.sessionId = sessionId;
    typing.readUpTo = null;
  }
  if (!data) {
    if (added.some((message) => message.sender === 'user')) showTyping('');
    markRead();
    return;
  }
  const active = data.session.status === 'active';
  showTyping(active && data.customerTyping ? `${displayName(data.session.userInfo)} is typing…` : '');
  moveReadUpTo(data.customerReadUpTo);
}

// Never moves back (a newer read already shown stays).
function moveReadUpTo(upTo) {
  const typing = state.typing;
  if (upTo && (!typing.readUpTo || upTo > typing.readUpTo)) typing.readUpTo = upTo;
  markRead();
}

// Pushed `typing` and `read` events of the open chat (the holder's connections get them).
export function showPushedSignal(frame) {
  if (frame.sessionId !== state.openId || frame.data?.side !== 'user') return;
  if (frame.type === 'read') {
    if (state.typing.sessionId === frame.sessionId) moveReadUpTo(frame.data.upTo);
    return;
  }
  const session = state.openSession ?? state.sessions.get(frame.sessionId);
  showTyping(`${displayName(session?.userInfo)} is typing…`);
  typingTimer = setTimeout(() => showTyping(''), TYPING_SHOWN_MS);
}

// Message ids sort in send order (`msg_` and 12 digits), so "up to" is a string comparison.
function markRead() {
  const { readUpTo } = state.typing;
  for (const item of $('transcript').querySelectorAll('li.admin[data-message-id]')) {
    const read = readUpTo !== null && item.dataset.messageId <= readUpTo;
    let tick = item.querySelector('.tick');
    if (read && !tick) {
      tick = element('span', 'tick', '✓✓');
      tick.title = 'Seen by the customer';
      tick.append(element('span', 'visually-hidden', ' seen by the customer'));
      item.querySelector('.meta')?.append(' ', tick);
    } else if (!read && tick) {
      tick.remove();
    }
  }
}

export function signalTyping() {
  const sessionId = state.openId;
  const now = Date.now();
  if (!sessionId || !$('reply-text').value.trim() || now - state.typing.lastSignal < TYPING_SIGNAL_EVERY_MS) return;
  state.typing.lastSignal = now;
  api('POST', '/api/admin/chat/typing', { sessionId }).catch(() => { /* a hint, not worth an error */ });
}
