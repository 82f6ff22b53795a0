// The canned-reply picker that `/` opens at the start of the reply box: the team's replies by
// shortcut, chosen with the arrows and Enter (or the mouse), inserted for editing.
import { api } from './api.js';
import { $, element } from './dom.js';
import { state } from './store.js';
import { signalTyping } from './typing.js';

const CANNED_PATH = '/api/admin/canned-responses';
const PICKER_ROWS = 8;

function loadCanned() {
  const canned = state.canned;
  if (!canned.loading) {
    canned.loading = api('GET', CANNED_PATH)
      .then((data) => { canned.replies = data.responses; })
      .finally(() => { canned.loading = null; });
  }
  return canned.loading;
}

function picker() {
  return $('canned-list');
}

// Adds the picker and its hint around the reply box.
export function setUpPicker() {
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

export async function updatePicker() {
  const canned = state.canned;
  const prefix = typedShortcut();
  const value = $('reply-text').value;
  if (value !== canned.dismissed) canned.dismissed = null;
  if (prefix === null || value === canned.dismissed) {
    closePicker();
    return;
  }
  if (canned.replies === null) {
    try { await loadCanned(); } catch { closePicker(); return; }
    if (typedShortcut() !== prefix) return; // the agent typed on meanwhile
  }
  canned.matches = canned.replies.filter((r) => r.shortcut.startsWith(prefix)).slice(0, PICKER_ROWS);
  canned.active = canned.matches.length ? 0 : -1;
  renderPicker();
}

function renderPicker() {
  const { matches, active } = state.canned;
  const list = picker();
  const box = $('reply-text');
  list.replaceChildren(...matches.map((response, index) => {
    const option = element('li', 'canned-option');
    option.id = `canned-option-${index}`;
    option.dataset.index = String(index);
    option.setAttribute('role', 'option');
    option.setAttribute('aria-selected', String(index === active));
    option.append(element('span', 'shortcut', `/${response.shortcut}`), element('span', 'text', response.text));
    return option;
  }));
  const open = matches.length > 0;
  list.hidden = !open;
  if (open) box.setAttribute('aria-activedescendant', `canned-option-${active}`);
  else box.removeAttribute('aria-activedescendant');
  $('canned-hint').textContent = open
    ? `${matches.length} canned ${matches.length === 1 ? 'reply matches' : 'replies match'}. Up and down to choose, Enter to insert, Escape to close.`
    : (typedShortcut() !== null ? 'No canned reply matches.' : '');
  list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
}

export function closePicker() {
  state.canned.matches = [];
  state.canned.active = -1;
  if (picker()) renderPicker();
}

// A read of the open chat: the picker closes when another chat is on screen.
export function onTranscript({ sessionId }) {
  if (sessionId === state.canned.sessionId) return;
  state.canned.sessionId = sessionId;
  closePicker();
}

// Inserts the reply's text for editing; sending stays the agent's decision.
function choose(index) {
  const response = state.canned.matches[index];
  if (!response) return;
  const box = $('reply-text');
  box.value = response.text;
  closePicker();
  $('canned-hint').textContent = `Inserted /${response.shortcut}. Edit it, then press Enter to send.`;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  signalTyping();
}

// Runs before the reply box's own Enter-sends handler (capture on the form): while the picker
// is open, Enter chooses and the arrows move, and nothing is sent.
export function onPickerKey(event) {
  const canned = state.canned;
  if (event.target.id !== 'reply-text' || canned.matches.length === 0) return;
  const count = canned.matches.length;
  const keys = {
    ArrowDown: () => { canned.active = (canned.active + 1) % count; renderPicker(); },
    ArrowUp: () => { canned.active = (canned.active - 1 + count) % count; renderPicker(); },
    Enter: () => choose(canned.active),
    Tab: () => choose(canned.active),
    Escape: () => { canned.dismissed = $('reply-text').value; closePicker(); },
  };
  const action = keys[event.key];
  if (!action || (event.key === 'Enter' && (event.shiftKey || event.isComposing))) return;
  event.preventDefault();
  event.stopPropagation();
  action();
}
