//! The agents' items: their accounts (with the item that keeps an email unique) and the
//! activity log's entries.

use super::super::keys::*;
use super::Entity;
use crate::clock::{as_iso8601, iso8601, to_millis};
use crate::ids::{hex, random_bytes, SessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    #[serde(with = "as_iso8601")]
    pub created_at: DateTime<Utc>,
    /// Epoch seconds of the last password change (for ops; tokens are retired by generation).
    pub password_changed_at: i64,
    /// Carried in every token as `gen`; deactivating, activating and resetting the password
    /// each bump it, so every token issued before stops working for good.
    #[serde(default)]
    pub token_generation: u64,
}

impl AdminItem {
    /// A new, active agent (no token issued yet).
    pub fn new(
        admin_id: String,
        email: String,
        name: String,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: admin_pk(&admin_id),
            sk: ADMIN_SK.to_owned(),
            gsi2pk: ADMIN_LIST_PARTITION.to_owned(),
            gsi2sk: email.clone(),
            entity: Entity::Admin,
            admin_id,
            email,
            name,
            password_hash,
            active: true,
            created_at: to_millis(now),
            password_changed_at: now.timestamp(),
            token_generation: 0,
        }
    }
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
    ClaimedSession,
    TransferredSession,
    ReleasedSession,
    CreatedCannedResponse,
    UpdatedCannedResponse,
    DeletedCannedResponse,
}

/// Who holds a session (`assignedTo`): the agent's id, and their name as it was when they
/// took it, so the list shows it without reading the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignee {
    pub admin_id: String,
    pub name: String,
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
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
    pub expires_at: i64,
}

/// What an activity entry is about: a session (it lives in the session's partition), or the
/// agent's own account (a sign-in lock, in the agent's partition; `sessionId` is empty).
#[derive(Debug, Clone, Copy)]
pub enum ActivitySubject<'a> {
    Session(&'a SessionId),
    Account,
    /// The team's canned replies (in their partition; `sessionId` is empty).
    CannedResponses,
}

impl ActivityItem {
    /// A new entry at `now`; its id is the time and a random suffix, so entries sort by time
    /// and never collide.
    pub fn new(
        admin_id: &str,
        subject: ActivitySubject<'_>,
        action: ActivityAction,
        details: serde_json::Value,
        now: DateTime<Utc>,
        expires_at: i64,
    ) -> Self {
        let activity_id = format!("{}#{}", iso8601(now), hex(&random_bytes::<6>()));
        let (pk, session_id) = match subject {
            ActivitySubject::Session(session) => (session_pk(session), session.to_string()),
            ActivitySubject::Account => (admin_pk(admin_id), String::new()),
            ActivitySubject::CannedResponses => (CANNED_PK.to_owned(), String::new()),
        };
        Self {
            pk,
            sk: format!("{ACTIVITY_SK_PREFIX}{activity_id}"),
            gsi1pk: admin_activity_partition(admin_id),
            gsi1sk: activity_id.clone(),
            gsi2pk: ACTIVITY_ALL_PARTITION.to_owned(),
            gsi2sk: activity_id.clone(),
            entity: Entity::Activity,
            activity_id,
            admin_id: admin_id.to_owned(),
            action,
            session_id,
            details,
            timestamp: to_millis(now),
            expires_at,
        }
    }
}
