// Agents work as a team: who holds each chat (in its row and in the chat header), claim /
// release / transfer from the chat header, and the Mine / Unassigned / All filter of the list.
// app.js calls the hooks below; they use its helpers (api, element, $, state).
'use strict';

const team = {
  filter: 'all',       // 'all' | 'mine' | 'unassigned'
  agents: null,        // the active agents, loaded once per sign-in for the transfer picker
  holder: undefined,   // the open chat's assignedTo as last rendered
};

// The list query for the chosen filter (null: every active chat).
function listFilter() {
  if (team.filter === 'mine') return ['assignedTo', 'me'];
  if (team.filter === 'unassigned') return ['assignedTo', 'none'];
  return null;
}

function isMe(assignee) {
  return Boolean(assignee && state.auth && assignee.adminId === state.auth.admin.adminId);
}

function holderText(assignee) {
  if (!assignee) return 'Unassigned';
  return isMe(assignee) ? 'Yours' : `Held by ${assignee.name}`;
}

// The row's holder line.
function holderLine(session) {
  const line = element('span', session.assignedTo ? 'holder' : 'holder free', holderText(session.assignedTo));
  if (isMe(session.assignedTo)) line.classList.add('mine');
  return line;
}

async function loadAgents() {
  if (team.agents) return team.agents;
  team.agents = (await api('GET', '/api/admin/agents')).agents;
  const picker = $('transfer-to');
  picker.replaceChildren(...team.agents
    .filter((agent) => agent.adminId !== state.auth.admin.adminId)
    .map((agent) => {
      const option = element('option', '', agent.name);
      option.value = agent.adminId;
      return option;
    }));
  return team.agents;
}

// The chat header's controls for the open chat (active chats only).
function renderAssignment(session) {
  const active = session.status === 'active';
  $('assignment').hidden = !active;
  if (!active) return;
  const holder = session.assignedTo || null;
  team.holder = holder;
  const mine = isMe(holder);
  $('holder').textContent = !holder ? 'Nobody holds this chat.'
    : mine ? 'You hold this chat.' : `${holder.name} holds this chat.`;
  $('claim-chat').hidden = Boolean(holder);
  $('release-chat').hidden = !mine;
  // The holder, or anyone while nobody holds it, may hand the chat on.
  $('transfer').hidden = Boolean(holder) && !mine;
  if (!$('transfer').hidden) loadAgents().catch(() => {});
}

async function changeHolder(path, body, button) {
  const sessionId = state.openId;
  if (!sessionId) return;
  button.disabled = true;
  $('assignment-error').textContent = '';
  try {
    await api('POST', path, { sessionId, ...body });
    await pollChat().catch(() => {});
    await refreshSessions().catch(() => {});
  } catch (error) {
    if (error.code === 'SIGNED_OUT') return;
    $('assignment-error').textContent = error.code === 'ALREADY_ASSIGNED' && error.details
      ? `${error.details.assignedTo.name} holds this chat now.`
      : error.message;
    await pollChat().catch(() => {});
  } finally {
    button.disabled = false;
  }
}

// What the reply box says when another agent holds the chat (null: another kind of failure).
function replyRefusal(error) {
  if (error.code !== 'ALREADY_ASSIGNED') return null;
  const name = error.details?.assignedTo?.name || 'Another agent';
  $('reply-force').hidden = false;
  return `Not sent: ${name} holds this chat. Your text is kept; use “Send anyway” to reply regardless.`;
}

function setFilter(filter) {
  team.filter = filter;
  document.querySelectorAll('#list-filter button').forEach((button) => {
    button.setAttribute('aria-pressed', String(button.dataset.filter === filter));
  });
  state.list = emptyList();
  refreshSessions().catch(() => {});
}

function resetTeam() {
  team.agents = null;
  team.holder = undefined;
}

document.addEventListener('DOMContentLoaded', () => {
  $('claim-chat').addEventListener('click', (event) => changeHolder('/api/admin/chat/claim', {}, event.currentTarget));
  $('release-chat').addEventListener('click', (event) => changeHolder('/api/admin/chat/release', {}, event.currentTarget));
  $('transfer').addEventListener('submit', (event) => {
    event.preventDefault();
    const toAdminId = $('transfer-to').value;
    if (toAdminId) changeHolder('/api/admin/chat/transfer', { toAdminId }, $('transfer-chat'));
  });
  document.querySelectorAll('#list-filter button').forEach((button) => {
    button.addEventListener('click', () => setFilter(button.dataset.filter));
  });
});
