// The open chat's holder: who holds it, and claim / release / transfer from the chat header.
import { api } from './api.js';
import { pollChat, refreshListUnlessLive } from './chat.js';
import { $, element } from './dom.js';
import { isMe } from './holders.js';
import { state } from './store.js';

async function loadAgents() {
  if (state.agents) return state.agents;
  state.agents = (await api('GET', '/api/admin/agents')).agents;
  const picker = $('transfer-to');
  picker.replaceChildren(...state.agents
    .filter((agent) => agent.adminId !== state.auth.admin.adminId)
    .map((agent) => {
      const option = element('option', '', agent.name);
      option.value = agent.adminId;
      return option;
    }));
  return state.agents;
}

// The chat header's controls for the open chat (active chats only).
export function renderAssignment({ data }) {
  if (!data) return; // a pushed message changes no holder
  const { session } = data;
  const active = session.status === 'active';
  $('assignment').hidden = !active;
  if (!active) return;
  const holder = session.assignedTo || null;
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
    await refreshListUnlessLive();
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

export function claim(event) {
  changeHolder('/api/admin/chat/claim', {}, event.currentTarget);
}

export function release(event) {
  changeHolder('/api/admin/chat/release', {}, event.currentTarget);
}

export function transfer(event) {
  event.preventDefault();
  const toAdminId = $('transfer-to').value;
  if (toAdminId) changeHolder('/api/admin/chat/transfer', { toAdminId }, $('transfer-chat'));
}
