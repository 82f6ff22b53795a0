// The open chat: opening it, its 2 s poll, replying, ending it, and its render function (the
// header, the status line and the transcript).
import { api } from './api.js';
import { refreshSessions } from './chat-list.js';
import { $, element } from './dom.js';
import { clock, displayName } from './format.js';
import { notify, state } from './store.js';

const END_REASONS = { user: 'by the customer', idle: 'after inactivity', admin: 'by support' };

export async function openChat(sessionId) {
  state.openId = sessionId;
  state.messageIds = new Set();
  state.lastMessageId = null;
  state.pending = null;
  renderOpening(sessionId);
  // The first read has no cursor: the whole transcript, and the server logs the view.
  await pollChat();
  $('reply-text').focus();
}

export async function pollChat() {
  const sessionId = state.openId;
  if (!sessionId || state.chatBusy) return;
  state.chatBusy = true;
  try {
    const after = state.lastMessageId ? `?after=${encodeURIComponent(state.lastMessageId)}` : '';
    const data = await api('GET', `/api/admin/chat/messages/${encodeURIComponent(sessionId)}${after}`);
    if (state.openId !== sessionId) return;
    const added = [];
    for (const message of data.messages) {
      if (state.messageIds.has(message.messageId)) continue;
      state.messageIds.add(message.messageId);
      state.lastMessageId = message.messageId;
      added.push(message);
    }
    notify('transcript', { sessionId, data, added });
  } catch (error) {
    if (error.code === 'SESSION_NOT_FOUND' && state.openId === sessionId) {
      $('chat-status').textContent = 'This chat no longer exists.';
    }
    throw error;
  } finally {
    state.chatBusy = false;
  }
}

// The chat view as a chat opens, before its first read.
function renderOpening(sessionId) {
  $('transcript').replaceChildren();
  $('reply-text').value = '';
  $('reply-error').textContent = '';
  $('reply-force').hidden = true;
  $('assignment-error').textContent = '';
  $('chat-status').textContent = '';
  $('chat-empty').hidden = true;
  $('chat-open').hidden = false;
  const listed = state.sessions.get(sessionId);
  $('chat-title').textContent = listed ? `Chat with ${displayName(listed.userInfo)}` : 'Chat';
  document.querySelectorAll('#session-list button').forEach((b) => {
    if (b.dataset.sessionId === sessionId) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  });
}

// The chat view after a read: its details, and the messages not shown yet.
export function renderChat({ data, added }) {
  renderDetails(data.session);
  const transcript = $('transcript');
  for (const message of added) {
    const item = element('li', message.sender === 'admin' ? 'admin' : 'user');
    item.dataset.messageId = message.messageId;
    const who = message.sender === 'admin' ? 'Support' : 'Customer';
    item.append(element('span', 'meta', `${who} · ${clock(message.timestamp)}`), document.createTextNode(message.message));
    transcript.append(item);
  }
  if (data.messages.length) transcript.scrollTop = transcript.scrollHeight;
}

function renderDetails(session) {
  const email = session.userInfo.email ? `${session.userInfo.email} · ` : '';
  $('chat-title').textContent = `Chat with ${displayName(session.userInfo)}`;
  $('chat-meta').textContent = `${email}started ${clock(session.startTime)} · session ${session.sessionId}`;
  const active = session.status === 'active';
  $('end-chat').hidden = !active;
  $('reply-form').hidden = !active;
  if (active) {
    $('chat-status').textContent = '';
    return;
  }
  let text = `${['This chat ended', endedHow(session), 'at'].filter(Boolean).join(' ')} ${clock(session.endTime)}.`;
  if (session.rating) {
    text += ` Rating: ${session.rating} of 5.`;
    if (session.feedback) text += ` Feedback: “${session.feedback}”`;
  } else {
    text += ' No rating yet.';
  }
  $('chat-status').textContent = text;
}

// Why an ended chat ended. Sessions ended before the API gave `endReason` tell it by status
// (an idle end has the customer's status, "ended", so only `endReason` can tell it apart).
function endedHow(session) {
  const reason = session.endReason || (session.status === 'ended_by_admin' ? 'admin' : 'user');
  return END_REASONS[reason] || '';
}

function newMessageKey() {
  return `msg_admin_${crypto.randomUUID().replaceAll('-', '')}`;
}

// What the reply box says when another agent holds the chat (null: another kind of failure).
function replyRefusal(error) {
  if (error.code !== 'ALREADY_ASSIGNED') return null;
  const name = error.details?.assignedTo?.name || 'Another agent';
  $('reply-force').hidden = false;
  return `Not sent: ${name} holds this chat. Your text is kept; use “Send anyway” to reply regardless.`;
}

// `force`: the agent chose "Send anyway" in a chat another agent holds.
export async function sendReply(event, force = false) {
  event.preventDefault();
  const sessionId = state.openId;
  const text = $('reply-text').value.trim();
  if (!sessionId || !text || $('reply-send').disabled) return;
  // A retry of the same text reuses its key, so a reply that did arrive is not stored twice.
  if (!state.pending || state.pending.text !== text) state.pending = { text, key: newMessageKey() };
  $('reply-send').disabled = true;
  $('reply-send').textContent = 'Sending…';
  $('reply-error').textContent = '';
  try {
    await api('POST', '/api/admin/chat/message', {
      sessionId, message: text, sender: 'admin', timestamp: new Date().toISOString(), messageId: state.pending.key,
      ...(force ? { force: true } : {}),
    });
    state.pending = null;
    $('reply-force').hidden = true;
    if (state.openId === sessionId) $('reply-text').value = '';
    await pollChat().catch(() => {});
    await refreshSessions().catch(() => {});
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('reply-error').textContent = replyRefusal(error) || `Not sent: ${error.message}. Your text is kept; try again.`;
  } finally {
    $('reply-send').disabled = false;
    $('reply-send').textContent = 'Send';
  }
}

export async function endChat() {
  const sessionId = state.openId;
  const listed = state.sessions.get(sessionId);
  const name = listed ? displayName(listed.userInfo) : 'this customer';
  if (!sessionId || !window.confirm(`End the chat with ${name}? They will be asked to rate it.`)) return;
  $('end-chat').disabled = true;
  try {
    await api('POST', '/api/admin/chat/session/end', { sessionId });
    await pollChat().catch(() => {});
    await refreshSessions().catch(() => {});
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('chat-status').textContent = `Could not end the chat: ${error.message}`;
  } finally {
    $('end-chat').disabled = false;
  }
}
