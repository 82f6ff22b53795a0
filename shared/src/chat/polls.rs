//! The client poll: the support messages no poll has delivered yet and those after a cursor
//! that names a reply (see [`delivery`]), the session state, and the client's presence.

use super::messages::WireMessage;
use super::{delivery, typing, ChatError, ChatService, ClientAccess};
use crate::ids::MessageId;
use crate::model::SessionStatus;
use crate::store::items::{EndReason, MessageItem, SessionItem};
use crate::store::{PollWrite, SupportRange};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Most support messages one poll returns; the rest come with the next poll (`hasMore`).
pub const POLL_LIMIT: usize = 50;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolledMessages {
    pub messages: Vec<WireMessage>,
    pub session_ended: bool,
    pub session_status: SessionStatus,
    /// Why it ended (`user`, `idle`, `admin`); null while active.
    pub end_reason: Option<EndReason>,
    pub has_more: bool,
    /// An agent signalled typing within the last 5 s.
    pub support_typing: bool,
    /// The newest user message an agent has seen in the transcript (null: none yet).
    pub support_read_up_to: Option<MessageId>,
}

impl ChatService {
    /// What the client poll returns: the support messages no poll has delivered yet and, when
    /// the cursor names a reply, every one after it (oldest first, at most [`POLL_LIMIT`]),
    /// and the session state. The session item is read first and
    /// alone: with nothing undelivered (the common case) that is the whole poll, and a wrong
    /// token never costs a message read. Otherwise one bounded Query reads from the delivery
    /// marker, or from a cursor behind it (see [`delivery`]; a second Query only when that
    /// cursor was the customer's own message and the page ended among replies already
    /// delivered), and one conditional write records how far it got (with the client's
    /// presence, when due).
    pub async fn poll_support_messages(
        &self,
        access: &ClientAccess,
        after: Option<MessageId>,
    ) -> Result<PolledMessages, ChatError> {
        let token = self.presented_token(access)?;
        let session_id = &access.session_id;
        let session = self
            .store
            .get_session(session_id)
            .await?
            .ok_or(ChatError::SessionNotFound)?;
        self.check_client(&session, token)?;
        let mut plan = delivery::plan_poll(after.map(MessageId::seq), &session);
        let (mut messages, mut has_more, mut write) = (Vec::new(), false, PollWrite::default());
        if plan.read {
            let mut range = self
                .read_support_after(session_id, &session, plan.start)
                .await?;
            if plan.check_cursor {
                let read: Vec<u64> = range.messages.iter().map(message_seq).collect();
                let (start, already_delivered) = delivery::from_cursor(&plan, &session, &read);
                range.messages.drain(..already_delivered);
                plan.start = start;
                let marker = session.delivery().seq;
                if Some(start) == plan.cursor {
                    // A reply as the cursor: read on while a page ends among the customer's
                    // own messages, so that the answer always carries the next reply (the
                    // client cannot move its cursor otherwise).
                    while range.messages.is_empty() && !range.complete {
                        range = self
                            .read_support_after(session_id, &session, range.scanned_to)
                            .await?;
                    }
                } else if plan.ahead || (!range.complete && range.scanned_to <= marker) {
                    // The customer's own message as the cursor: what is new comes after the
                    // marker (the read began at the cursor, ahead of it; or the page ended
                    // among replies already delivered).
                    range = if session.support_count > session.delivered_support_count {
                        self.read_support_after(session_id, &session, marker)
                            .await?
                    } else {
                        SupportRange {
                            messages: Vec::new(),
                            scanned_to: marker,
                            complete: true,
                        }
                    };
                }
            }
            has_more = !range.complete;
            let returned: Vec<u64> = range.messages.iter().map(message_seq).collect();
            // A catch-up from a reply ahead of the marker is another device's read: the
            // marker, the shipped app's record of what it was given, stays.
            let catching_up = plan.ahead && plan.cursor == Some(plan.start);
            write.delivery = delivery::reached(&plan, &session, &returned, range.scanned_to)
                .filter(|_| !catching_up)
                .map(|reached| (session.delivery(), reached));
            // The newest reply returned for the first time, kept next to the marker (which may
            // stand on a user message) for the agents' read ticks.
            write.newest_delivered = returned
                .last()
                .copied()
                .filter(|&seq| write.delivery.is_some() && seq > session.delivered_support_seq);
            messages = range.messages;
        }
        let now = self.now();
        if self.presence_due(&session, now) && session.status.is_active() {
            write.seen_at = Some(now);
        }
        write.token_presented = self.remember_token(&session, token);
        if !self.store.record_poll(session_id, &write).await? {
            // Another poll of this session delivered meanwhile (two polls overlapping): these
            // messages are its to deliver; the next poll continues after them.
            (messages, has_more) = (Vec::new(), true);
        }
        Ok(PolledMessages {
            messages: messages.into_iter().map(WireMessage::from).collect(),
            session_ended: !session.status.is_active(),
            session_status: session.status,
            end_reason: session.end_reason,
            has_more,
            support_typing: session.status.is_active()
                && typing::shows_typing(session.support_typing_at, now),
            support_read_up_to: typing::message_id(session.support_read_up_to),
        })
    }

    /// The support messages after `start`, up to the newest, one bounded page.
    async fn read_support_after(
        &self,
        session_id: &crate::ids::SessionId,
        session: &SessionItem,
        start: u64,
    ) -> Result<SupportRange, ChatError> {
        Ok(self
            .store
            .read_support_range(
                session_id,
                MessageId::from_seq(start + 1),
                MessageId::from_seq(session.last_seq),
                POLL_LIMIT as i32,
            )
            .await?)
    }

    /// A poll refreshes the client's presence at most every quarter of the idle timeout, so
    /// most polls write nothing and the sweep still never ends a session that is polling.
    pub(super) fn presence_due(&self, session: &SessionItem, now: DateTime<Utc>) -> bool {
        let quarter = self.config.idle_timeout / 4;
        session
            .last_seen_at
            .is_none_or(|seen| (now - seen).to_std().is_ok_and(|age| age >= quarter))
    }
}

fn message_seq(message: &MessageItem) -> u64 {
    message.message_id.seq()
}
