//! The push channel's items: single-use tickets, open connections and the list hint's gate.

use super::super::keys::*;
use super::Entity;
use crate::clock::{as_iso8601, iso8601, to_millis};
use crate::ids::SessionId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who a ticket or a connection is for: one customer's session, or one agent (as of the
/// token generation that asked, so a deactivation or password reset also ends their push).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushHolder {
    Customer { session_id: SessionId },
    Agent { admin_id: String, generation: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HolderKind {
    Customer,
    Agent,
}

/// The holder's attributes as stored (flat, so every item kind reads them the same way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredHolder {
    pub kind: HolderKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<String>,
    #[serde(default, rename = "gen", skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
}

impl From<&PushHolder> for StoredHolder {
    fn from(holder: &PushHolder) -> Self {
        match holder {
            PushHolder::Customer { session_id } => Self {
                kind: HolderKind::Customer,
                session_id: Some(session_id.clone()),
                admin_id: None,
                generation: None,
            },
            PushHolder::Agent {
                admin_id,
                generation,
            } => Self {
                kind: HolderKind::Agent,
                session_id: None,
                admin_id: Some(admin_id.clone()),
                generation: Some(*generation),
            },
        }
    }
}

impl StoredHolder {
    /// `None` for an item that lacks what its kind needs (never written so).
    pub fn holder(&self) -> Option<PushHolder> {
        match self.kind {
            HolderKind::Customer => Some(PushHolder::Customer {
                session_id: self.session_id.clone()?,
            }),
            HolderKind::Agent => Some(PushHolder::Agent {
                admin_id: self.admin_id.clone()?,
                generation: self.generation?,
            }),
        }
    }
}

impl PushHolder {
    /// The partition its connections live in.
    pub fn connections_partition(&self) -> String {
        match self {
            Self::Customer { session_id } => session_connections_pk(session_id),
            Self::Agent { admin_id, .. } => agent_connections_pk(admin_id),
        }
    }
}

/// `TICKET#<hash>` / `TICKET`: consumed by the one conditional delete that opens a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    #[serde(flatten)]
    pub holder: StoredHolder,
    /// Epoch seconds: the ticket works until then (the condition checks it; TTL only cleans up).
    pub expires_at: i64,
}

impl TicketItem {
    pub fn new(ticket_hash: &str, holder: &PushHolder, expires_at: i64) -> Self {
        Self {
            pk: ticket_pk(ticket_hash),
            sk: TICKET_SK.to_owned(),
            entity: Entity::Ticket,
            holder: holder.into(),
            expires_at,
        }
    }
}

/// `CONNS#SESSION#<id>` or `CONNS#ADMIN#<id>` / `CONN#<connectionId>`: an open connection, in
/// its holder's connections partition (one Query finds them). Agents'
/// connections are also listed on GSI2 (`CONNS#AGENTS`) for the list hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    pub entity: Entity,
    pub connection_id: String,
    #[serde(flatten)]
    pub holder: StoredHolder,
    #[serde(with = "as_iso8601")]
    pub connected_at: DateTime<Utc>,
    /// Epoch seconds: API Gateway ends every connection after 2 hours, so the item goes then.
    pub expires_at: i64,
}

/// `CONN#<connectionId>` / `CONN`: which partition holds the connection, for `$disconnect`
/// (API Gateway tells it only the connection id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionLookupItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    pub owner: String,
    pub expires_at: i64,
    /// The session whose events this (agent's) connection also gets, if it said `view`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewing: Option<SessionId>,
}

impl ConnectionItem {
    pub fn new(
        connection_id: &str,
        holder: &PushHolder,
        connected_at: DateTime<Utc>,
        expires_at: i64,
    ) -> Self {
        let connected_at = to_millis(connected_at);
        let listed = matches!(holder, PushHolder::Agent { .. });
        Self {
            pk: holder.connections_partition(),
            sk: connection_sk(connection_id),
            gsi2pk: listed.then(|| AGENT_CONNECTIONS_PARTITION.to_owned()),
            gsi2sk: listed.then(|| format!("{}#{connection_id}", iso8601(connected_at))),
            entity: Entity::Connection,
            connection_id: connection_id.to_owned(),
            holder: holder.into(),
            connected_at,
            expires_at,
        }
    }

    pub fn lookup(&self) -> ConnectionLookupItem {
        ConnectionLookupItem {
            pk: connection_lookup_pk(&self.connection_id),
            sk: CONNECTION_LOOKUP_SK.to_owned(),
            entity: Entity::ConnectionLookup,
            owner: self.pk.clone(),
            expires_at: self.expires_at,
            viewing: None,
        }
    }

    /// This connection's copy in a session's viewers partition (not listed in GSI2: the list
    /// hint reaches it through the original).
    pub fn viewing(&self, session: &SessionId) -> Self {
        Self {
            pk: view_connections_pk(session),
            gsi2pk: None,
            gsi2sk: None,
            ..self.clone()
        }
    }
}
