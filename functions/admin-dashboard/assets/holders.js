// Who holds a chat, as its row in the list and the open chat's header say it.
import { element } from './dom.js';
import { state } from './store.js';

export function isMe(assignee) {
  return Boolean(assignee && state.auth && assignee.adminId === state.auth.admin.adminId);
}

function holderText(assignee) {
  if (!assignee) return 'Unassigned';
  return isMe(assignee) ? 'Yours' : `Held by ${assignee.name}`;
}

// The row's holder line.
export function holderLine(session) {
  const line = element('span', session.assignedTo ? 'holder' : 'holder free', holderText(session.assignedTo));
  if (isMe(session.assignedTo)) line.classList.add('mine');
  return line;
}
