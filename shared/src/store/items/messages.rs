//! A session's messages and the idempotency keys that produced them (in its partition).

use super::Entity;
use crate::clock::{as_iso8601, to_millis};
use crate::ids::{IdempotencyKey, MessageId, SessionId};
use crate::model::Sender;
use crate::store::keys::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub message_id: MessageId,
    pub sender: Sender,
    pub message: String,
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
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
    pub message_id: MessageId,
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
    /// SHA-256 of the text the key was first used with: the same key with another text is a
    /// client bug, not a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_hash: Option<String>,
    pub expires_at: i64,
}

impl MessageItem {
    /// Message `id` of the session, its keys derived from both.
    pub fn new(
        session: &SessionId,
        id: MessageId,
        sender: Sender,
        text: String,
        timestamp: DateTime<Utc>,
        admin_id: Option<String>,
        expires_at: i64,
    ) -> Self {
        Self {
            pk: session_pk(session),
            sk: message_sk(id),
            entity: Entity::Message,
            message_id: id,
            sender,
            message: text,
            timestamp: to_millis(timestamp),
            admin_id,
            expires_at,
        }
    }
}

/// Whose key a send carried, and the key: names the send's idempotency item.
#[derive(Debug, Clone, Copy)]
pub struct SenderKey<'a> {
    pub owner: KeyOwner<'a>,
    pub key: &'a IdempotencyKey,
}

impl SenderKey<'_> {
    pub(crate) fn sk(&self) -> String {
        idempotency_sk(self.owner, self.key)
    }
}

impl IdempotencyItem {
    /// What `key` produced: message `message_id`, sent at `timestamp`, with this text.
    pub fn new(
        session: &SessionId,
        key: SenderKey<'_>,
        message_id: MessageId,
        timestamp: DateTime<Utc>,
        text_hash: String,
        expires_at: i64,
    ) -> Self {
        Self {
            pk: session_pk(session),
            sk: key.sk(),
            entity: Entity::Idempotency,
            message_id,
            timestamp: to_millis(timestamp),
            text_hash: Some(text_hash),
            expires_at,
        }
    }
}
