//! The team's canned replies and the items that keep their shortcuts unique.

use super::super::keys::*;
use super::Entity;
use crate::clock::{as_iso8601, to_millis};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One canned reply: `PK = CANNED`, `SK = RESPONSE#<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CannedResponseItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub response_id: String,
    pub shortcut: String,
    pub text: String,
    /// The agent who wrote it last, and when.
    pub updated_by: String,
    #[serde(with = "as_iso8601")]
    pub updated_at: DateTime<Utc>,
}

impl CannedResponseItem {
    pub fn new(
        response_id: &str,
        shortcut: &str,
        text: &str,
        admin_id: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: CANNED_PK.to_owned(),
            sk: canned_response_sk(response_id),
            entity: Entity::CannedResponse,
            response_id: response_id.to_owned(),
            shortcut: shortcut.to_owned(),
            text: text.to_owned(),
            updated_by: admin_id.to_owned(),
            updated_at: to_millis(now),
        }
    }
}

/// Holds a shortcut for one reply: `PK = CANNED`, `SK = SHORTCUT#<shortcut>`. Written only if
/// absent, in the same transaction as the reply, so two replies never share a shortcut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortcutItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub response_id: String,
}

impl ShortcutItem {
    pub fn new(shortcut: &str, response_id: &str) -> Self {
        Self {
            pk: CANNED_PK.to_owned(),
            sk: canned_shortcut_sk(shortcut),
            entity: Entity::CannedShortcut,
            response_id: response_id.to_owned(),
        }
    }
}
