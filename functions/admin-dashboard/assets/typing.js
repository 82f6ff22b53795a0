// Signs of life in the open chat: the customer's typing under the transcript, read ticks on
// support messages, and this agent's own typing, signalled while composing.
import { api } from './api.js';
import { $, element } from './dom.js';
import { displayName } from './format.js';
import { state } from './store.js';

const TYPING_SIGNAL_EVERY_MS = 3000; // the server keeps one write per 3 s anyway

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

// Every transcript read (the open chat's 2 s poll) carries `customerTyping` and
// `customerReadUpTo`.
export function renderTyping({ sessionId, data }) {
  const typing = state.typing;
  if (sessionId !== typing.sessionId) {
    typing.sessionId = sessionId;
    typing.readUpTo = null;
  }
  const active = data.session.status === 'active';
  typingLine().textContent = active && data.customerTyping
    ? `${displayName(data.session.userInfo)} is typing…`
    : '';
  // Never moves back (a newer read already shown stays).
  if (data.customerReadUpTo && (!typing.readUpTo || data.customerReadUpTo > typing.readUpTo)) {
    typing.readUpTo = data.customerReadUpTo;
  }
  markRead();
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
