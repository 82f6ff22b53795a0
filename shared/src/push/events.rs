//! What a committed change means to the people watching: one stream record in, the frames it
//! makes and who may see each (docs/asyncapi.yaml). Pure: no reads, no clock, so a batch's
//! records can be planned, shuffled and tested without DynamoDB.

use crate::chat::{ActiveSessionView, TranscriptMessage, WireMessage};
use crate::clock::{as_iso8601, iso8601};
use crate::ids::{MessageId, SessionId};
use crate::model::Sender;
use crate::store::items::{AdminItem, Assignee, MessageItem, SessionItem};
use crate::store::keys::{ADMIN_SK, MESSAGE_SK_START, SESSION_SK};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

/// One frame as every client receives it: `{type, id, sessionId?, at, data}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Frame {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The stream record's sequence number (plus `.n` for the n-th further frame of one
    /// record): the same on every redelivery, so clients drop duplicates and stale states.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    #[serde(with = "as_iso8601")]
    pub at: DateTime<Utc>,
    pub data: Value,
}

impl Frame {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a frame is plain JSON")
    }
}

/// Whose connections a frame goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The customer of this session (every device of theirs).
    Customer(SessionId),
    /// One agent.
    Agent(String),
    /// Whoever holds this session when the frame is sent (the record does not say: a
    /// message's record carries no holder).
    HolderOf(SessionId),
    /// The agents whose dashboards show this session (they said `view`).
    ViewersOf(SessionId),
}

/// Connections the server closes after telling them why.
#[derive(Debug, Clone, PartialEq)]
pub struct Closing {
    pub whom: Closed,
    /// The `closing` frame they get first.
    pub frame: Frame,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// The session ended: its customer's connections.
    SessionEnded(SessionId),
    /// The agent was deactivated or their tokens retired: their connections opened before
    /// generation `current` (all of them when `active` is false).
    AgentRetired {
        admin_id: String,
        active: bool,
        current: u64,
    },
}

/// What one record asks for.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    pub frames: Vec<(Audience, Frame)>,
    pub closings: Vec<Closing>,
    /// The session's row as the agents' lists show it, when something they list changed.
    pub list_row: Option<ActiveSessionView>,
    /// The session as it is after this record (tells a message's holder).
    pub session: Option<SessionItem>,
}

/// A record as the consumer reads it: its kind and the two images, decoded.
#[derive(Debug, Clone)]
pub enum Change {
    Session {
        old: Option<Box<SessionItem>>,
        new: Option<Box<SessionItem>>,
    },
    Message(Box<MessageItem>),
    Admin {
        old: Option<Box<AdminItem>>,
        new: Option<Box<AdminItem>>,
    },
}

/// Which kind of item a record's sort key names; `None`: nothing anyone is told about.
pub fn item_kind(sort_key: &str) -> Option<ItemKind> {
    match sort_key {
        SESSION_SK => Some(ItemKind::Session),
        ADMIN_SK => Some(ItemKind::Admin),
        sk if sk.starts_with(MESSAGE_SK_START) => Some(ItemKind::Message),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Session,
    Message,
    Admin,
}

/// Numbers a record's frames: the first keeps the sequence number, later ones add `.n`.
struct Ids<'a> {
    sequence: &'a str,
    next: usize,
}

impl Ids<'_> {
    fn next(&mut self) -> String {
        let id = match self.next {
            0 => self.sequence.to_owned(),
            n => format!("{}.{n}", self.sequence),
        };
        self.next += 1;
        id
    }
}

/// The plan for one record, sequence number `sequence`, committed at about `at`.
pub fn plan(change: Change, sequence: &str, at: DateTime<Utc>) -> Plan {
    let mut ids = Ids { sequence, next: 0 };
    match change {
        Change::Message(message) => plan_message(*message, &mut ids, at),
        Change::Session { old, new } => match new {
            Some(new) => plan_session(old.as_deref(), *new, &mut ids, at),
            None => Plan::default(), // removed (TTL, retention): nobody is watching it
        },
        Change::Admin { old, new } => plan_admin(old.as_deref(), new.as_deref(), &mut ids, at),
    }
}

fn plan_message(message: MessageItem, ids: &mut Ids<'_>, at: DateTime<Utc>) -> Plan {
    let Some(session) = crate::store::keys::session_of_pk(&message.pk) else {
        return Plan::default();
    };
    let id = ids.next();
    let frame = |data: Value| Frame {
        kind: "message.created",
        id: id.clone(),
        session_id: Some(session.clone()),
        at,
        data,
    };
    // The agents see both sides as the transcript shows them; the customer sees support's
    // messages as the poll returns them (their own they already have).
    let for_agents = frame(json!(TranscriptMessage::from(message.clone())));
    let viewers = (Audience::ViewersOf(session.clone()), for_agents.clone());
    let mut frames = vec![(Audience::HolderOf(session.clone()), for_agents), viewers];
    if message.sender == Sender::Admin {
        frames.push((
            Audience::Customer(session.clone()),
            frame(json!(WireMessage::from(message))),
        ));
    }
    Plan {
        frames,
        ..Plan::default()
    }
}

fn plan_session(
    old: Option<&SessionItem>,
    new: SessionItem,
    ids: &mut Ids<'_>,
    at: DateTime<Utc>,
) -> Plan {
    let session = new.session_id.clone();
    let mut plan = Plan::default();
    let push = |plan: &mut Plan,
                ids: &mut Ids<'_>,
                audiences: Vec<Audience>,
                kind: &'static str,
                data: Value| {
        let frame = Frame {
            kind,
            id: ids.next(),
            session_id: Some(session.clone()),
            at,
            data,
        };
        for audience in audiences {
            plan.frames.push((audience, frame.clone()));
        }
    };
    let holder = |item: &SessionItem| item.assigned_to.as_ref().map(|a| a.admin_id.clone());
    // Its holder, and the agents who have it on screen.
    let holders = |item: &SessionItem| -> Vec<Audience> {
        let viewers = Audience::ViewersOf(item.session_id.clone());
        holder(item)
            .map(Audience::Agent)
            .into_iter()
            .chain([viewers])
            .collect()
    };
    let state = |item: &SessionItem| {
        json!({
            "status": item.status,
            "waitingSince": item.waiting_since.map(iso8601),
            "endReason": item.end_reason,
        })
    };
    let Some(old) = old else {
        // A new chat: every agent's list learns it through the list hint.
        plan.list_row = Some(ActiveSessionView::from(new.clone()));
        plan.session = Some(new);
        return plan;
    };
    let mut listed_change = old.last_seq != new.last_seq;

    if old.status.is_active() && !new.status.is_active() {
        let mut audiences = holders(&new);
        audiences.push(Audience::Customer(session.clone()));
        push(&mut plan, ids, audiences, "session.ended", state(&new));
        plan.closings.push(Closing {
            whom: Closed::SessionEnded(session.clone()),
            frame: closing_frame("session-ended", Some(session.clone()), ids.next(), at),
        });
        listed_change = true;
    } else if old.waiting_since != new.waiting_since {
        push(
            &mut plan,
            ids,
            holders(&new),
            "session.waiting",
            state(&new),
        );
        listed_change = true;
    }

    if holder(old) != holder(&new) {
        let via = match (&old.assigned_to, &new.assigned_to) {
            (None, Some(_)) => "claim",
            (Some(_), Some(_)) => "transfer",
            _ => "release",
        };
        let mut agents = holders(old);
        agents.extend(holders(&new));
        push(
            &mut plan,
            ids,
            agents,
            "session.assigned",
            json!({ "assignedTo": new.assigned_to, "via": via }),
        );
        // The customer learns who answers them by name only.
        let name = new
            .assigned_to
            .as_ref()
            .map(|a: &Assignee| json!({ "name": a.name }));
        push(
            &mut plan,
            ids,
            vec![Audience::Customer(session.clone())],
            "session.assigned",
            json!({ "assignedTo": name, "via": via }),
        );
        listed_change = true;
    }

    if let Some(typing_at) = new
        .customer_typing_at
        .filter(|t| old.customer_typing_at.as_ref() != Some(t))
    {
        push(
            &mut plan,
            ids,
            holders(&new),
            "typing",
            json!({ "side": "user", "at": iso8601(typing_at) }),
        );
    }
    if let Some(typing_at) = new
        .support_typing_at
        .filter(|t| old.support_typing_at.as_ref() != Some(t))
    {
        push(
            &mut plan,
            ids,
            vec![Audience::Customer(session.clone())],
            "typing",
            json!({ "side": "admin", "at": iso8601(typing_at) }),
        );
    }
    if let Some(up_to) = new
        .support_read_up_to
        .filter(|n| old.support_read_up_to.is_none_or(|o| o < *n))
    {
        push(
            &mut plan,
            ids,
            vec![Audience::Customer(session.clone())],
            "read",
            json!({ "side": "admin", "upTo": MessageId::from_seq(up_to) }),
        );
    }
    if let Some(up_to) = new
        .delivered_support_id
        .filter(|n| old.delivered_support_id.is_none_or(|o| o < *n))
    {
        push(
            &mut plan,
            ids,
            holders(&new),
            "read",
            json!({ "side": "user", "upTo": MessageId::from_seq(up_to) }),
        );
    }
    if listed_change {
        plan.list_row = Some(ActiveSessionView::from(new.clone()));
    }
    plan.session = Some(new);
    plan
}

fn plan_admin(
    old: Option<&AdminItem>,
    new: Option<&AdminItem>,
    ids: &mut Ids<'_>,
    at: DateTime<Utc>,
) -> Plan {
    let Some(new) = new else {
        return Plan::default();
    };
    let retired = match old {
        Some(old) => (old.active && !new.active) || old.token_generation != new.token_generation,
        None => false,
    };
    Plan {
        closings: retired
            .then(|| Closing {
                whom: Closed::AgentRetired {
                    admin_id: new.admin_id.clone(),
                    active: new.active,
                    current: new.token_generation,
                },
                frame: closing_frame("agent-deactivated", None, ids.next(), at),
            })
            .into_iter()
            .collect(),
        ..Plan::default()
    }
}

/// The frame that tells a connection why the server closes it.
fn closing_frame(
    reason: &'static str,
    session: Option<SessionId>,
    id: String,
    at: DateTime<Utc>,
) -> Frame {
    Frame {
        kind: "closing",
        id,
        session_id: session,
        at,
        data: json!({ "reason": reason }),
    }
}

/// Rows a list hint carries; more changed: the hint says `truncated` and lists re-read.
pub const LIST_HINT_ROWS: usize = 20;

/// The list hint: here are the rows this hint knows of, newest change first (any list may
/// change with any row). `truncated` when there were more, or when an earlier change went
/// unannounced (`missed`): the lists are to be re-read.
pub fn list_hint(
    mut rows: Vec<ActiveSessionView>,
    missed: bool,
    id: String,
    at: DateTime<Utc>,
) -> Frame {
    let truncated = missed || rows.len() > LIST_HINT_ROWS;
    rows.truncate(LIST_HINT_ROWS);
    Frame {
        kind: "lists.changed",
        id,
        session_id: None,
        at,
        data: json!({
            "lists": ["all", "waiting", "unassigned"],
            "sessions": rows,
            "truncated": truncated,
        }),
    }
}

#[cfg(test)]
mod tests;
