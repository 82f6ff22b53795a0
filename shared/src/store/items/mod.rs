//! The items of the single table, typed. serde_dynamo turns them into attribute maps.
//!
//! One partition per session, `PK = SESSION#<sessionId>`:
//! - `IDEM#<sender>#<key>`  a sender's idempotency key -> the message it produced;
//! - `MSG#<seq>`           the messages, in commit order (seq = 1, 2, 3, ...);
//! - `SESSION`             the session itself, sorting after every message so that one Query
//!   from a cursor returns the new messages and the session state together.
//!
//! Active sessions also carry `GSI1PK = ACTIVE`, `GSI1SK = <startTime>#<sessionId>`: the sparse
//! index the admin list reads. Ending a session removes both, so it leaves the index. Two more
//! sparse indexes hold only active sessions: `GSI3PK = PRESENCE`, `GSI3SK = <lastSeenAt>#<id>`
//! (the idle sweep reads the oldest), and, while the customer awaits an answer,
//! `GSI4PK = WAITING`, `GSI4SK = <waitingSince>#<id>` (the agents' "waiting" list), and by
//! who holds them: `GSI5PK = ASSIGNEE#<adminId>` or `UNASSIGNED`, `GSI5SK` as `GSI1SK`.
//!
//! `COUNTER` / `ACTIVE_SESSIONS` counts the active sessions: every start and every end moves it
//! in the same transaction, so the list's `totalActive` is one read.

mod agents;
mod canned;
mod messages;
mod push;

pub use super::keys::KeyOwner;
use super::keys::*;
use crate::clock::{as_iso8601, to_millis};
use crate::ids::{MessageId, SessionId, TokenHash};
use crate::model::{Sender, SessionStatus, UserInfo};
pub use agents::{
    ActivityAction, ActivityItem, ActivitySubject, AdminEmailItem, AdminItem, Assignee,
};
pub use canned::{CannedResponseItem, ShortcutItem};
use chrono::{DateTime, Utc};
pub use messages::{IdempotencyItem, MessageItem, SenderKey};
pub use push::{
    ConnectionItem, ConnectionLookupItem, HolderKind, PushHolder, StoredHolder, TicketItem,
};
use serde::{Deserialize, Serialize};

/// Why a session is no longer active (`endReason` in every view of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// The customer left.
    User,
    /// The customer was not heard from for the idle timeout.
    Idle,
    /// A support agent ended it.
    Admin,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Idle => "idle",
            Self::Admin => "admin",
        }
    }
}

/// Who ended a session (`endedBy`): the customer, the idle sweep, or an agent, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum EndedBy {
    User,
    System,
    Agent(String),
}

impl EndedBy {
    pub fn as_str(&self) -> &str {
        match self {
            Self::User => "user",
            Self::System => "system",
            Self::Agent(admin_id) => admin_id,
        }
    }
}

impl From<String> for EndedBy {
    fn from(text: String) -> Self {
        match text.as_str() {
            "user" => Self::User,
            "system" => Self::System,
            _ => Self::Agent(text),
        }
    }
}

impl From<EndedBy> for String {
    fn from(by: EndedBy) -> Self {
        match by {
            EndedBy::Agent(admin_id) => admin_id,
            other => other.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Session,
    Message,
    Idempotency,
    Admin,
    AdminEmail,
    Activity,
    SignInFailures,
    CannedResponse,
    CannedShortcut,
    Stats,
    Ticket,
    Connection,
    ConnectionLookup,
}

/// The newest message, kept on the session so the admin list needs no query per session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePreview {
    pub message_id: MessageId,
    pub message: String,
    pub sender: Sender,
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi4sk: Option<String>,
    #[serde(rename = "GSI5PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi5pk: Option<String>,
    #[serde(rename = "GSI5SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi5sk: Option<String>,
    pub entity: Entity,
    pub session_id: SessionId,
    pub user_info: UserInfo,
    pub status: SessionStatus,
    #[serde(with = "as_iso8601")]
    pub start_time: DateTime<Utc>,
    pub token_hash: String,
    /// Sequence number of the newest message; every send is conditioned on it.
    pub last_seq: u64,
    /// Sequence number of the customer's newest message (the shipped app's poll cursor after a
    /// send; see `chat::delivery`); written by the send's own transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_user_seq: Option<u64>,
    /// How many support messages the session has (the support send's transaction adds one).
    #[serde(default)]
    pub support_count: u64,
    /// What client polls have delivered (see [`DeliveryMarker`]).
    #[serde(default)]
    pub delivered_support_seq: u64,
    #[serde(default)]
    pub delivered_support_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_cursor: Option<u64>,
    #[serde(default)]
    pub delivery_from: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<MessagePreview>,
    /// When the oldest user message not yet answered by support was sent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub waiting_since: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub end_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<EndedBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    /// When the client was last heard from (a send, or a poll, written at most every quarter
    /// of the idle timeout).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The client has presented its token: from then on it is required for this session, even
    /// while ops accept calls without one (`REQUIRE_CLIENT_TOKEN=false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub token_presented: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub rated_at: Option<DateTime<Utc>>,
    /// Epoch seconds; DynamoDB's TTL deletes the item after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The agent who holds the session; absent: unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<Assignee>,
    /// Typing signals, each written at most every few seconds; never part of an index key.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub customer_typing_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub support_typing_at: Option<DateTime<Utc>>,
    /// The newest user message an agent's transcript read has returned (its sequence number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_read_up_to: Option<u64>,
    /// The newest support message a poll has returned (the marker itself may pass user
    /// messages); written by the poll's own marker update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_support_id: Option<u64>,
    /// When the customer's first message was sent (analytics: the first response is measured
    /// from it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub first_user_message_at: Option<DateTime<Utc>>,
    /// When support first answered after it; set once, by the send that counted it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "as_iso8601::option"
    )]
    pub first_response_at: Option<DateTime<Utc>>,
}

/// How far client polls have delivered a session's support messages (kept on the session
/// item). Written only by a poll that returns support messages, conditioned on what it read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryMarker {
    /// The newest support message a poll has returned (0: none yet).
    pub seq: u64,
    /// How many support messages are at or before it.
    pub count: u64,
    /// The cursor of the poll that moved the marker last, and where that poll started: a poll
    /// with the same cursor is that poll again (its answer was lost) and gets the same messages.
    pub poll_cursor: Option<u64>,
    pub poll_start: u64,
}

impl SessionItem {
    /// A session as a client starts it: active, in the active and presence indexes, counted
    /// from message 0, the client seen now.
    pub fn open(
        session: &SessionId,
        user_info: UserInfo,
        token_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Self {
        let now = to_millis(now);
        Self {
            pk: session_pk(session),
            sk: SESSION_SK.to_owned(),
            gsi1pk: Some(ACTIVE_PARTITION.to_owned()),
            gsi1sk: Some(timed_sk(now, session)),
            gsi3pk: Some(PRESENCE_PARTITION.to_owned()),
            gsi3sk: Some(timed_sk(now, session)),
            gsi4pk: None,
            gsi4sk: None,
            gsi5pk: Some(assignee_partition(None)),
            gsi5sk: Some(timed_sk(now, session)),
            entity: Entity::Session,
            session_id: session.clone(),
            user_info,
            status: SessionStatus::Active,
            start_time: now,
            token_hash: token_hash.as_str().to_owned(),
            last_seq: 0,
            last_user_seq: None,
            support_count: 0,
            delivered_support_seq: 0,
            delivered_support_count: 0,
            delivery_cursor: None,
            delivery_from: 0,
            last_message: None,
            waiting_since: None,
            end_time: None,
            ended_by: None,
            end_reason: None,
            last_seen_at: Some(now),
            token_presented: false,
            rating: None,
            feedback: None,
            rated_at: None,
            expires_at: None,
            assigned_to: None,
            customer_typing_at: None,
            support_typing_at: None,
            support_read_up_to: None,
            delivered_support_id: None,
            first_user_message_at: None,
            first_response_at: None,
        }
    }

    pub fn delivery(&self) -> DeliveryMarker {
        DeliveryMarker {
            seq: self.delivered_support_seq,
            count: self.delivered_support_count,
            poll_cursor: self.delivery_cursor,
            poll_start: self.delivery_from,
        }
    }
}

#[cfg(test)]
mod tests;
