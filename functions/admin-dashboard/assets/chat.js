// The open chat: opening it, reading it (each push, or the poll while push is down), replying,
// ending it, and its render function (the header, the status line and the transcript).
import { attended } from './alerts.js';
import { api } from './api.js';
import { refreshSessions } from './chat-list.js';
import { $, element } from './dom.js';
import { clock, displayName } from './format.js';
import { notify, state } from './store.js';

const END_REASONS = { user: 'by the customer', idle: 'after inactivity', admin: 'by support' };

export async function openChat(sessionId) {
  state.openId = sessionId;
  state.openSession = null;
  state.unacknowledgedFrom = undefined;
  state.messageIds = new Set();
  state.lastMessageId = null;
  state.pending = null;
  renderOpening(sessionId);
  // The first read has no cursor: the whole transcript, and the server logs the view.
  await pollChat();
  $('reply-text').focus();
}

// Reads the open chat from the cursor (or from `from`, before messages already shown, which the
// read then returns again and the page skips). Asked for while a read runs, it reads again right
// after (that read may have started before what asked for it was stored); the promise settles then.
export async function pollChat(from = state.lastMessageId) {
  const sessionId = state.openId;
  if (!sessionId) return;
  if (state.chatBusy) {
    state.chatAgain = true;
    // An acknowledging read waits for its turn (the read again from the cursor would not do).
    if (from !== state.lastMessageId && state.unacknowledgedFrom === undefined) {
      state.unacknowledgedFrom = from;
      acknowledge();
    }
    return;
  }
  state.chatBusy = true;
  let more = false;
  try {
    const after = from ? `?after=${encodeURIComponent(from)}` : '';
    const data = await api('GET', `/api/admin/chat/messages/${encodeURIComponent(sessionId)}${after}`);
    if (state.openId !== sessionId) return;
    state.openSession = data.session;
    const added = [];
    for (const message of data.messages) {
      if (state.messageIds.has(message.messageId)) continue;
      state.messageIds.add(message.messageId);
      state.lastMessageId = message.messageId;
      added.push(message);
    }
    more = data.hasMore === true;
    notify('transcript', { sessionId, data, added });
  } catch (error) {
    if (error.code === 'SESSION_NOT_FOUND' && state.openId === sessionId) {
      $('chat-status').textContent = 'This chat no longer exists.';
    }
    throw error;
  } finally {
    state.chatBusy = false;
    if (state.chatAgain || (more && state.openId === sessionId)) {
      state.chatAgain = false;
      await pollChat();
    }
  }
}

const sequence = (messageId) => Number(messageId.slice('msg_'.length));

// A message pushed for the open chat: shown at once when it is the next one; after a gap (a
// push lost or overtaken) or during a read, the read from the cursor brings it, in order.
export function receivePushedMessage(sessionId, message) {
  if (sessionId !== state.openId || state.messageIds.has(message.messageId)) return;
  const previous = state.lastMessageId ? sequence(state.lastMessageId) : 0;
  if (state.chatBusy || sequence(message.messageId) !== previous + 1) {
    pollChat().catch(() => {});
    return;
  }
  if (message.sender === 'user' && state.unacknowledgedFrom === undefined) {
    state.unacknowledgedFrom = state.lastMessageId;
  }
  state.messageIds.add(message.messageId);
  state.lastMessageId = message.messageId;
  notify('transcript', { sessionId, data: null, added: [message] });
  if (message.sender === 'user') acknowledge();
}

// The customer sees "seen" once a transcript read has returned their message (the server marks
// it then), so pushed ones are read again, from before the first of them: at most one read a
// second, and only while the agent is looking; otherwise when they look again.
const ACKNOWLEDGE_AFTER_MS = 1000;

function acknowledge() {
  if (!attended() || state.acknowledgeTimer !== null) return;
  state.acknowledgeTimer = setTimeout(() => {
    state.acknowledgeTimer = null;
    acknowledgeOwed();
  }, ACKNOWLEDGE_AFTER_MS);
}

export function acknowledgeOwed() {
  if (state.unacknowledgedFrom === undefined || !attended()) return;
  const from = state.unacknowledgedFrom;
  state.unacknowledgedFrom = undefined;
  pollChat(from).catch(() => {});
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

// The chat view after a read (`data`) or a push: its details, and the messages not shown yet.
export function renderChat({ data, added }) {
  if (data) renderDetails(data.session);
  const transcript = $('transcript');
  for (const message of added) {
    const item = element('li', message.sender === 'admin' ? 'admin' : 'user');
    item.dataset.messageId = message.messageId;
    const who = message.sender === 'admin' ? 'Support' : 'Customer';
    item.append(element('span', 'meta', `${who} · ${clock(message.timestamp)}`), document.createTextNode(message.message));
    transcript.append(item);
  }
  if (added.length) transcript.scrollTop = transcript.scrollHeight;
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

// After the agent's own change: a live list hears of it by push; a polling one reads now.
export async function refreshListUnlessLive() {
  if (state.live !== 'live') await refreshSessions().catch(() => {});
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
    await refreshListUnlessLive();
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
    await refreshListUnlessLive();
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('chat-status').textContent = `Could not end the chat: ${error.message}`;
  } finally {
    $('end-chat').disabled = false;
  }
}
