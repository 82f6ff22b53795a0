//! Every key of the single table, built in one place: the partition and sort keys of each
//! item, the index keys, and the fixed partitions. Nothing outside `store/` spells a key.

use crate::clock::iso8601;
use crate::ids::{IdempotencyKey, MessageId, SessionId};
use chrono::{DateTime, Utc};

pub const SESSION_SK: &str = "SESSION";
pub const ACTIVE_INDEX: &str = "GSI1";
pub const ACTIVE_PARTITION: &str = "ACTIVE";
pub const PRESENCE_INDEX: &str = "GSI3";
pub const PRESENCE_PARTITION: &str = "PRESENCE";
pub const WAITING_INDEX: &str = "GSI4";
pub const WAITING_PARTITION: &str = "WAITING";
pub const ASSIGNEE_INDEX: &str = "GSI5";
pub const COUNTER_PK: &str = "COUNTER";
pub const ACTIVE_COUNT_SK: &str = "ACTIVE_SESSIONS";

/// An index sort key: a time (ISO 8601, so it sorts) and the session, so keys are unique.
pub fn timed_sk(at: DateTime<Utc>, session: &SessionId) -> String {
    format!("{}#{session}", iso8601(at))
}

pub fn session_pk(session: &SessionId) -> String {
    format!("SESSION#{session}")
}

/// The session a `SESSION#<id>` partition key names.
pub fn session_of_pk(pk: &str) -> Option<SessionId> {
    pk.strip_prefix("SESSION#").and_then(SessionId::parse)
}

/// The one-item partition the health check (and every function's warm-up) reads.
pub const HEALTH_PK: &str = "HEALTH";
pub const HEALTH_SK: &str = "HEALTH";

pub fn message_sk(id: MessageId) -> String {
    format!("MSG#{:012}", id.seq())
}

/// The sequence number a `MSG#<seq>` sort key holds.
pub fn seq_of_message_sk(sk: &str) -> Option<u64> {
    sk.strip_prefix(MESSAGE_SK_START)?.parse().ok()
}

/// Lower bound for "every message": sorts before `MSG#000000000001`.
pub const MESSAGE_SK_START: &str = "MSG#";

/// Whose idempotency key it is: the session's customer, or one support agent (two agents'
/// keys never collide).
#[derive(Debug, Clone, Copy)]
pub enum KeyOwner<'a> {
    Customer,
    Agent(&'a str),
}

pub fn idempotency_sk(owner: KeyOwner<'_>, key: &IdempotencyKey) -> String {
    match owner {
        KeyOwner::Customer => format!("IDEM#user#{}", key.as_str()),
        KeyOwner::Agent(admin_id) => format!("IDEM#admin#{admin_id}#{}", key.as_str()),
    }
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

pub const ACTIVITY_SK_PREFIX: &str = "ACT#";
pub const ACTIVITY_ALL_PARTITION: &str = "ACTIVITY";

pub fn admin_activity_partition(admin_id: &str) -> String {
    format!("ACTIVITY#{admin_id}")
}

/// Failed sign-ins for one email: `LOGIN#<sha256 of the normalized email>`.
pub const SIGN_IN_SK: &str = "LOGIN";

pub fn sign_in_pk(email_hash: &str) -> String {
    format!("LOGIN#{email_hash}")
}

/// The assignee index's partition of an active session: its holder's, or the unassigned one.
pub fn assignee_partition(admin_id: Option<&str>) -> String {
    match admin_id {
        Some(admin_id) => format!("ASSIGNEE#{admin_id}"),
        None => "UNASSIGNED".to_owned(),
    }
}

/// The team's canned replies, all in one partition: `RESPONSE#<id>` each (one Query lists
/// them), `SHORTCUT#<shortcut>` keeping a shortcut unique, `COUNT` capping how many exist.
pub const CANNED_PK: &str = "CANNED";
pub const CANNED_RESPONSE_SK_PREFIX: &str = "RESPONSE#";
pub const CANNED_COUNT_SK: &str = "COUNT";

pub fn canned_response_sk(response_id: &str) -> String {
    format!("{CANNED_RESPONSE_SK_PREFIX}{response_id}")
}

pub fn canned_shortcut_sk(shortcut: &str) -> String {
    format!("SHORTCUT#{shortcut}")
}

/// Daily analytics counters, sharded so that no one item takes every send of a busy day:
/// `STATS#<YYYY-MM-DD>#<shard>`, shard 0 to [`STATS_SHARDS`] - 1, chosen from the session id.
pub const STATS_SK: &str = "STATS";
pub const STATS_SHARDS: u8 = 16;

pub fn stats_pk(day: chrono::NaiveDate, shard: u8) -> String {
    format!("STATS#{}#{shard}", day.format("%Y-%m-%d"))
}

/// The counter shard of a session: stable (FNV-1a of the id, not a hasher whose output may
/// change between Rust releases), so one session's events always land on the same shard.
pub fn stats_shard(session: &SessionId) -> u8 {
    let hash = session
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (hash % u64::from(STATS_SHARDS)) as u8
}

/// The push channel (decision 0009). A ticket is keyed by its hash, never by itself.
pub const TICKET_SK: &str = "TICKET";

pub fn ticket_pk(ticket_hash: &str) -> String {
    format!("TICKET#{ticket_hash}")
}

/// A holder's open connections have a partition of their own (`CONNS#SESSION#<id>`,
/// `CONNS#ADMIN#<id>`): the functions that write them may write nothing else (IAM's
/// `dynamodb:LeadingKeys`), and reading them is one Query.
pub fn session_connections_pk(session: &SessionId) -> String {
    format!("CONNS#{}", session_pk(session))
}

pub fn agent_connections_pk(admin_id: &str) -> String {
    format!("CONNS#{}", admin_pk(admin_id))
}

/// The agents' connections whose dashboards show a session (`view` frames): a copy of each
/// connection's item, so that the session's events reach them as they reach its holder.
pub fn view_connections_pk(session: &SessionId) -> String {
    format!("CONNS#VIEW#{session}")
}

pub const CONNECTION_SK_PREFIX: &str = "CONN#";

pub fn connection_sk(connection_id: &str) -> String {
    format!("{CONNECTION_SK_PREFIX}{connection_id}")
}

pub const CONNECTION_LOOKUP_SK: &str = "CONN";

pub fn connection_lookup_pk(connection_id: &str) -> String {
    format!("CONN#{connection_id}")
}

/// GSI2 partition listing every agent's open connection (the list hint's audience).
pub const AGENT_CONNECTIONS_PARTITION: &str = "CONNS#AGENTS";

/// The one item whose conditional update lets one consumer invocation send the list hint.
pub const LIST_HINT_PK: &str = "PUSH";
pub const LIST_HINT_SK: &str = "LIST_HINT";
