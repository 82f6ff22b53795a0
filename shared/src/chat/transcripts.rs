//! An agent's view of one session: its details and its transcript, both sides.

use super::{typing, ChatError, ChatService};
use crate::clock::as_iso8601;
use crate::ids::{MessageId, SessionId};
use crate::model::{Sender, SessionStatus, UserInfo};
use crate::sign_in::auth::VerifiedAdmin;
use crate::store::items::{ActivityAction, EndReason, SessionItem};
use crate::store::MessageFilter;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptMessage {
    pub message_id: MessageId,
    pub message: String,
    pub sender: Sender,
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<String>,
}

impl From<crate::store::items::MessageItem> for TranscriptMessage {
    fn from(m: crate::store::items::MessageItem) -> Self {
        Self {
            message_id: m.message_id,
            message: m.message,
            sender: m.sender,
            timestamp: m.timestamp,
            admin_id: m.admin_id,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetails {
    pub session_id: SessionId,
    pub user_info: UserInfo,
    pub status: SessionStatus,
    #[serde(with = "as_iso8601")]
    pub start_time: DateTime<Utc>,
    #[serde(with = "as_iso8601::option")]
    pub end_time: Option<DateTime<Utc>>,
    /// `user`, `system` (idle) or the agent's id.
    pub ended_by: Option<String>,
    pub end_reason: Option<EndReason>,
    pub message_count: u64,
    #[serde(with = "as_iso8601::option")]
    pub waiting_since: Option<DateTime<Utc>>,
    pub rating: Option<u8>,
    pub feedback: Option<String>,
    /// The agent who holds the session (kept after it ends); null: nobody.
    pub assigned_to: Option<crate::store::items::Assignee>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    pub session: SessionDetails,
    pub messages: Vec<TranscriptMessage>,
    /// More than one response's worth of messages follow the last one returned.
    pub has_more: bool,
    /// The customer signalled typing within the last 5 s.
    pub customer_typing: bool,
    /// The newest support message the customer's polls have returned (null: none yet).
    pub customer_read_up_to: Option<MessageId>,
}

impl ChatService {
    /// A session's transcript (both sides) after the cursor, and its details. Opening it
    /// (no cursor) is logged as `VIEWED_SESSION`; the dashboard's polls are not.
    pub async fn session_transcript(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
        after: Option<MessageId>,
    ) -> Result<Transcript, ChatError> {
        let mut page = self
            .store
            .read_after(session_id, after, MessageFilter::All)
            .await?;
        let session = self
            .session_of_page(session_id, page.session.take(), page.truncated)
            .await?;
        if after.is_none() {
            let viewed = self.activity(
                &admin.admin_id,
                session_id,
                ActivityAction::ViewedSession,
                json!({}),
            );
            self.store.put_activity(&viewed).await?;
        }
        self.mark_read_by_support(&session, &page.messages).await?;
        let customer_typing = session.status.is_active()
            && typing::shows_typing(session.customer_typing_at, self.now());
        let customer_read_up_to = typing::message_id(session.delivered_support_id);
        Ok(Transcript {
            session: SessionDetails {
                session_id: session.session_id,
                user_info: session.user_info,
                status: session.status,
                start_time: session.start_time,
                end_time: session.end_time,
                ended_by: session.ended_by.map(String::from),
                end_reason: session.end_reason,
                message_count: session.last_seq,
                waiting_since: session.waiting_since,
                rating: session.rating,
                feedback: session.feedback,
                assigned_to: session.assigned_to,
            },
            messages: page
                .messages
                .into_iter()
                .map(TranscriptMessage::from)
                .collect(),
            has_more: page.truncated,
            customer_typing,
            customer_read_up_to,
        })
    }

    /// The session a partition read returned; it sorts after every message, so it is missing
    /// only when DynamoDB stopped at its 1 MB page first (then one extra read) or it does not exist.
    async fn session_of_page(
        &self,
        session_id: &SessionId,
        session: Option<SessionItem>,
        truncated: bool,
    ) -> Result<SessionItem, ChatError> {
        match session {
            Some(session) => Ok(session),
            None if truncated => self
                .store
                .get_session(session_id)
                .await?
                .ok_or(ChatError::SessionNotFound),
            None => Err(ChatError::SessionNotFound),
        }
    }
}
