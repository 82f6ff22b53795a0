// Signs of life in the open chat and canned replies: the customer's typing under the
// transcript, read ticks on support messages, the agent's own typing signalled while composing,
// and the canned-reply picker that `/` opens at the start of the reply box.
// Loaded after app.js (both deferred, in order): uses its `api`, `state` and `$`.
'use strict';

const TYPING_SIGNAL_EVERY_MS = 3000; // the server keeps one write per 3 s anyway
const CANNED_PATH = '/api/admin/canned-responses';
const PICKER_ROWS = 8;

const extras = {
  sessionId: null,        // the chat the typing line and ticks describe
  readUpTo: null,         // newest support message the customer's polls have returned
  lastSignal: 0,          // when this agent last signalled typing (ms)
  canned: null,           // the team's canned replies, once loaded
  cannedLoading: null,
  matches: [],            // the picker's options
  active: -1,             // the highlighted option
  dismissed: null,        // the reply-box text the agent closed the picker on (Escape)
};

// ---- the customer's typing and read ticks -------------------------------------------------

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
// `customerReadUpTo`; app.js announces each one.
function onTranscript(event) {
  const { sessionId, data } = event.detail;
  if (sessionId !== extras.sessionId) {
    extras.sessionId = sessionId;
    extras.readUpTo = null;
    closePicker();
  }
  const active = data.session.status === 'active';
  typingLine().textContent = active && data.customerTyping
    ? `${displayName(data.session.userInfo)} is typing…`
    : '';
  // Never moves back (a newer read already shown stays).
  if (data.customerReadUpTo && (!extras.readUpTo || data.customerReadUpTo > extras.readUpTo)) {
    extras.readUpTo = data.customerReadUpTo;
  }
  markRead();
}

// Message ids sort in send order (`msg_` and 12 digits), so "up to" is a string comparison.
function markRead() {
  for (const item of $('transcript').querySelectorAll('li.admin[data-message-id]')) {
    const read = extras.readUpTo !== null && item.dataset.messageId <= extras.readUpTo;
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

// ---- the agent's typing ------------------------------------------------------------------

function signalTyping() {
  const sessionId = state.openId;
  const now = Date.now();
  if (!sessionId || !$('reply-text').value.trim() || now - extras.lastSignal < TYPING_SIGNAL_EVERY_MS) return;
  extras.lastSignal = now;
  api('POST', '/api/admin/chat/typing', { sessionId }).catch(() => { /* a hint, not worth an error */ });
}

// ---- the canned-reply picker ---------------------------------------------------------------

function loadCanned() {
  if (!extras.cannedLoading) {
    extras.cannedLoading = api('GET', CANNED_PATH)
      .then((data) => { extras.canned = data.responses; })
      .finally(() => { extras.cannedLoading = null; });
  }
  return extras.cannedLoading;
}

function picker() {
  return $('canned-list');
}

function setUpPicker() {
  const box = $('reply-text');
  const list = element('ul', 'canned-list');
  list.id = 'canned-list';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Canned replies');
  list.hidden = true;
  const hint = element('p', 'visually-hidden');
  hint.id = 'canned-hint';
  hint.setAttribute('aria-live', 'polite');
  box.before(list);
  box.after(hint);
  // A textarea keeps its textbox role (ARIA allows no combobox on it): the list is tied to it
  // by aria-controls and aria-activedescendant, and its state is announced by the hint.
  box.setAttribute('aria-autocomplete', 'list');
  box.setAttribute('aria-controls', 'canned-list');
  box.setAttribute('aria-describedby', 'canned-hint');
  // Choosing with the mouse must not blur the box first.
  list.addEventListener('mousedown', (event) => event.preventDefault());
  list.addEventListener('click', (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) choose(Number(option.dataset.index));
  });
}

// `/` and a partial shortcut, alone at the start of the reply box.
function typedShortcut() {
  const match = /^\/([a-z0-9-]{0,32})$/.exec($('reply-text').value);
  return match ? match[1] : null;
}

async function updatePicker() {
  const prefix = typedShortcut();
  const value = $('reply-text').value;
  if (value !== extras.dismissed) extras.dismissed = null;
  if (prefix === null || value === extras.dismissed) {
    closePicker();
    return;
  }
  if (extras.canned === null) {
    try { await loadCanned(); } catch { closePicker(); return; }
    if (typedShortcut() !== prefix) return; // the agent typed on meanwhile
  }
  extras.matches = extras.canned.filter((r) => r.shortcut.startsWith(prefix)).slice(0, PICKER_ROWS);
  extras.active = extras.matches.length ? 0 : -1;
  renderPicker();
}

function renderPicker() {
  const list = picker();
  const box = $('reply-text');
  list.replaceChildren(...extras.matches.map((response, index) => {
    const option = element('li', 'canned-option');
    option.id = `canned-option-${index}`;
    option.dataset.index = String(index);
    option.setAttribute('role', 'option');
    option.setAttribute('aria-selected', String(index === extras.active));
    option.append(element('span', 'shortcut', `/${response.shortcut}`), element('span', 'text', response.text));
    return option;
  }));
  const open = extras.matches.length > 0;
  list.hidden = !open;
  if (open) box.setAttribute('aria-activedescendant', `canned-option-${extras.active}`);
  else box.removeAttribute('aria-activedescendant');
  $('canned-hint').textContent = open
    ? `${extras.matches.length} canned ${extras.matches.length === 1 ? 'reply matches' : 'replies match'}. Up and down to choose, Enter to insert, Escape to close.`
    : (typedShortcut() !== null ? 'No canned reply matches.' : '');
  list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
}

function closePicker() {
  extras.matches = [];
  extras.active = -1;
  if (picker()) renderPicker();
}

// Inserts the reply's text for editing; sending stays the agent's decision.
function choose(index) {
  const response = extras.matches[index];
  if (!response) return;
  const box = $('reply-text');
  box.value = response.text;
  closePicker();
  $('canned-hint').textContent = `Inserted /${response.shortcut}. Edit it, then press Enter to send.`;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  signalTyping();
}

// Runs before app.js's own Enter-sends handler (capture on the form): while the picker is
// open, Enter chooses and the arrows move, and nothing is sent.
function onPickerKey(event) {
  if (event.target.id !== 'reply-text' || extras.matches.length === 0) return;
  const keys = {
    ArrowDown: () => { extras.active = (extras.active + 1) % extras.matches.length; renderPicker(); },
    ArrowUp: () => { extras.active = (extras.active - 1 + extras.matches.length) % extras.matches.length; renderPicker(); },
    Enter: () => choose(extras.active),
    Tab: () => choose(extras.active),
    Escape: () => { extras.dismissed = $('reply-text').value; closePicker(); },
  };
  const action = keys[event.key];
  if (!action || (event.key === 'Enter' && (event.shiftKey || event.isComposing))) return;
  event.preventDefault();
  event.stopPropagation();
  action();
}

document.addEventListener('DOMContentLoaded', () => {
  setUpPicker();
  document.addEventListener('chat:transcript', onTranscript);
  $('reply-form').addEventListener('keydown', onPickerKey, true);
  $('reply-text').addEventListener('input', () => {
    signalTyping();
    updatePicker();
  });
  $('reply-text').addEventListener('blur', () => closePicker());
});
