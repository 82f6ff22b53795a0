//! The items of the single table, typed. serde_dynamo turns them into attribute maps.
//!
//! One partition per session, `PK = SESSION#<sessionId>`:
//! - `IDEM#<sender>#<key>`  a sender's idempotency key -> the message it produced;
//! - `MSG#<seq>`           the messages, in commit order (seq = 1, 2, 3, ...);
//! - `SESSION`             the session itself, sorting after every message so that one Query
//!   from a cursor returns the new messages and the session state together.
//!
//! Active sessions also carry `GSI1PK = ACTIVE`, `GSI1SK = <startTime>#<sessionId>`: the sparse
//! index the admin list reads. Ending a session removes both, so it leaves the index.

use crate::ids::{IdempotencyKey, MessageId, SessionId};
use crate::model::{Sender, SessionStatus, UserInfo};
use serde::{Deserialize, Serialize};

pub const SESSION_SK: &str = "SESSION";
pub const ACTIVE_INDEX: &str = "GSI1";
pub const ACTIVE_PARTITION: &str = "ACTIVE";

pub fn session_pk(session: &SessionId) -> String {
    format!("SESSION#{session}")
}

pub fn message_sk(id: MessageId) -> String {
    format!("MSG#{:012}", id.seq())
}

/// Lower bound for "every message": sorts before `MSG#000000000001`.
pub const MESSAGE_SK_START: &str = "MSG#";

pub fn idempotency_sk(sender: Sender, key: &IdempotencyKey) -> String {
    let sender = match sender {
        Sender::User => "user",
        Sender::Admin => "admin",
    };
    format!("IDEM#{sender}#{}", key.as_str())
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
}

/// The newest message, kept on the session so the admin list needs no query per session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePreview {
    pub message_id: String,
    pub message: String,
    pub sender: Sender,
    pub timestamp: String,
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
    pub entity: Entity,
    pub session_id: String,
    pub user_info: UserInfo,
    pub status: SessionStatus,
    pub start_time: String,
    pub token_hash: String,
    /// Sequence number of the newest message; every send is conditioned on it.
    pub last_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<MessagePreview>,
    /// When the oldest user message not yet answered by support was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `user` when the client left, else the admin id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rated_at: Option<String>,
    /// Epoch seconds; DynamoDB's TTL deletes the item after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub message_id: String,
    pub sender: Sender,
    pub message: String,
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub message_id: String,
    pub timestamp: String,
    pub expires_at: i64,
}

/// Support agents. `ADMIN#<adminId>`; the email is unique through a second item
/// `ADMIN_EMAIL#<email>` written in the same transaction. `GSI2PK = ADMIN` lists them.
pub const ADMIN_SK: &str = "ADMIN";
pub const ADMIN_EMAIL_SK: &str = "ADMIN_EMAIL";
pub const ADMIN_LIST_PARTITION: &str = "ADMIN";
pub const ALL_INDEX: &str = "GSI2";

pub fn admin_pk(admin_id: &str) -> String {
    format!("ADMIN#{admin_id}")
}

pub fn admin_email_pk(email: &str) -> String {
    format!("ADMIN_EMAIL#{email}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI2PK")]
    pub gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    pub gsi2sk: String,
    pub entity: Entity,
    pub admin_id: String,
    /// Lower case.
    pub email: String,
    pub name: String,
    /// argon2id, PHC string format.
    pub password_hash: String,
    pub active: bool,
    pub created_at: String,
    /// Epoch seconds of the last password change (for ops; tokens are retired by generation).
    pub password_changed_at: i64,
    /// Carried in every token as `gen`; deactivating, activating and resetting the password
    /// each bump it, so every token issued before stops working for good.
    #[serde(default)]
    pub token_generation: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminEmailItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub admin_id: String,
}

/// What an agent did, for auditors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityAction {
    SentMessage,
    EndedSession,
    ViewedSession,
    /// Too many failed sign-ins for the agent's email; sign-in is refused for a while.
    SignInLocked,
}

/// In the session's partition (`ACT#...`, so a session's log is one Query), and in two indexes:
/// `GSI1PK = ACTIVITY#<adminId>` (one agent's actions) and `GSI2PK = ACTIVITY` (everything),
/// both sorted by time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    #[serde(rename = "GSI2PK")]
    pub gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    pub gsi2sk: String,
    pub entity: Entity,
    pub activity_id: String,
    pub admin_id: String,
    pub action: ActivityAction,
    pub session_id: String,
    pub details: serde_json::Value,
    pub timestamp: String,
    pub expires_at: i64,
}

pub const ACTIVITY_SK_PREFIX: &str = "ACT#";
pub const ACTIVITY_ALL_PARTITION: &str = "ACTIVITY";

pub fn admin_activity_partition(admin_id: &str) -> String {
    format!("ACTIVITY#{admin_id}")
}
