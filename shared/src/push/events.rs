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
    let mut frames = vec![(Audience::HolderOf(session.clone()), for_agents)];
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
    let holders = |item: &SessionItem| -> Vec<Audience> {
        holder(item).map(Audience::Agent).into_iter().collect()
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

/// The list hint: the lists may have changed; here are the rows this hint knows of, newest
/// change first. Every list an agent shows can change with any row (all, waiting, unassigned).
pub fn list_hint(mut rows: Vec<ActiveSessionView>, id: String, at: DateTime<Utc>) -> Frame {
    let truncated = rows.len() > LIST_HINT_ROWS;
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
mod tests {
    use super::*;
    use crate::clock::parse_iso8601;
    use crate::ids::{ClientToken, MessageId};
    use crate::model::{SessionStatus, UserInfo};
    use crate::store::items::EndReason;

    fn at(text: &str) -> DateTime<Utc> {
        parse_iso8601(text).unwrap()
    }

    fn session() -> SessionItem {
        let id = SessionId::parse("chat_1700000000000_abc").unwrap();
        SessionItem::open(
            &id,
            UserInfo::default(),
            &ClientToken::generate().hash(),
            at("2026-12-07T10:00:00.000Z"),
        )
    }

    fn agent(id: &str) -> Assignee {
        Assignee {
            admin_id: id.into(),
            name: format!("Agent {id}"),
        }
    }

    fn planned(old: &SessionItem, new: &SessionItem) -> Plan {
        plan(
            Change::Session {
                old: Some(Box::new(old.clone())),
                new: Some(Box::new(new.clone())),
            },
            "1100000000017454423009",
            at("2026-12-07T10:01:00.000Z"),
        )
    }

    fn kinds_for(plan: &Plan, audience: &Audience) -> Vec<&'static str> {
        plan.frames
            .iter()
            .filter(|(a, _)| a == audience)
            .map(|(_, f)| f.kind)
            .collect()
    }

    #[test]
    fn a_new_chat_reaches_the_agents_lists_only() {
        let new = session();
        let plan = plan(
            Change::Session {
                old: None,
                new: Some(Box::new(new.clone())),
            },
            "1",
            at("2026-12-07T10:00:00.000Z"),
        );
        assert!(plan.frames.is_empty());
        assert_eq!(plan.list_row.unwrap().session_id, new.session_id);
    }

    #[test]
    fn a_support_message_goes_to_the_customer_as_the_poll_shows_it_and_to_the_holder() {
        let id = session().session_id;
        let message = MessageItem::new(
            &id,
            MessageId::from_seq(2),
            Sender::Admin,
            "Hello".into(),
            at("2026-12-07T10:00:05.000Z"),
            Some("adm_a".into()),
            0,
        );
        let plan = plan(
            Change::Message(Box::new(message)),
            "7",
            at("2026-12-07T10:00:05.000Z"),
        );
        let customer: Vec<_> = plan
            .frames
            .iter()
            .filter(|(a, _)| *a == Audience::Customer(id.clone()))
            .collect();
        assert_eq!(customer.len(), 1);
        assert_eq!(customer[0].1.data["messageId"], "msg_000000000002");
        assert!(
            customer[0].1.data.get("adminId").is_none(),
            "the poll's shape"
        );
        let holder: Vec<_> = plan
            .frames
            .iter()
            .filter(|(a, _)| *a == Audience::HolderOf(id.clone()))
            .collect();
        assert_eq!(holder[0].1.data["adminId"], "adm_a");
        assert_eq!(
            holder[0].1.id, "7",
            "one event: the record's sequence number"
        );
    }

    #[test]
    fn the_customers_own_message_is_not_echoed_to_them() {
        let id = session().session_id;
        let message = MessageItem::new(
            &id,
            MessageId::from_seq(1),
            Sender::User,
            "Hi".into(),
            at("2026-12-07T10:00:05.000Z"),
            None,
            0,
        );
        let plan = plan(
            Change::Message(Box::new(message)),
            "7",
            at("2026-12-07T10:00:05.000Z"),
        );
        assert!(kinds_for(&plan, &Audience::Customer(id.clone())).is_empty());
        assert_eq!(
            kinds_for(&plan, &Audience::HolderOf(id)),
            ["message.created"]
        );
    }

    #[test]
    fn a_claim_tells_the_customer_a_name_and_the_new_holder_everything() {
        let old = session();
        let new = SessionItem {
            assigned_to: Some(agent("adm_a")),
            ..old.clone()
        };
        let plan = planned(&old, &new);
        let to_customer = plan
            .frames
            .iter()
            .find(|(a, _)| matches!(a, Audience::Customer(_)))
            .unwrap();
        assert_eq!(
            to_customer.1.data["assignedTo"],
            json!({ "name": "Agent adm_a" })
        );
        assert_eq!(to_customer.1.data["via"], "claim");
        assert_eq!(
            kinds_for(&plan, &Audience::Agent("adm_a".into())),
            ["session.assigned"]
        );
        assert!(plan.list_row.is_some(), "the lists show who holds a chat");
    }

    #[test]
    fn a_transfer_tells_both_holders() {
        let old = SessionItem {
            assigned_to: Some(agent("adm_a")),
            ..session()
        };
        let new = SessionItem {
            assigned_to: Some(agent("adm_b")),
            ..old.clone()
        };
        let plan = planned(&old, &new);
        for holder in ["adm_a", "adm_b"] {
            assert_eq!(
                kinds_for(&plan, &Audience::Agent(holder.into())),
                ["session.assigned"]
            );
        }
    }

    #[test]
    fn an_ending_is_announced_then_closes_the_customers_connections() {
        let old = SessionItem {
            assigned_to: Some(agent("adm_a")),
            ..session()
        };
        let new = SessionItem {
            status: SessionStatus::EndedByAdmin,
            end_reason: Some(EndReason::Admin),
            ..old.clone()
        };
        let plan = planned(&old, &new);
        let id = new.session_id.clone();
        assert_eq!(
            kinds_for(&plan, &Audience::Customer(id.clone())),
            ["session.ended"]
        );
        assert_eq!(
            kinds_for(&plan, &Audience::Agent("adm_a".into())),
            ["session.ended"]
        );
        assert_eq!(plan.closings.len(), 1);
        assert_eq!(plan.closings[0].whom, Closed::SessionEnded(id));
        assert_eq!(plan.closings[0].frame.data["reason"], "session-ended");
        let ended = &plan.frames[0].1;
        assert_ne!(ended.id, plan.closings[0].frame.id, "each frame its own id");
    }

    #[test]
    fn typing_and_read_markers_go_to_the_other_side_only() {
        let old = SessionItem {
            assigned_to: Some(agent("adm_a")),
            ..session()
        };
        let new = SessionItem {
            customer_typing_at: Some(at("2026-12-07T10:00:30.000Z")),
            support_typing_at: Some(at("2026-12-07T10:00:31.000Z")),
            support_read_up_to: Some(3),
            delivered_support_id: Some(2),
            ..old.clone()
        };
        let plan = planned(&old, &new);
        let id = new.session_id.clone();
        assert_eq!(
            kinds_for(&plan, &Audience::Customer(id)),
            ["typing", "read"]
        );
        assert_eq!(
            kinds_for(&plan, &Audience::Agent("adm_a".into())),
            ["typing", "read"]
        );
        let ids: Vec<&str> = plan.frames.iter().map(|(_, f)| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "1100000000017454423009",
                "1100000000017454423009.1",
                "1100000000017454423009.2",
                "1100000000017454423009.3"
            ]
        );
        assert!(plan.list_row.is_none(), "typing changes no list");
    }

    #[test]
    fn a_presence_write_tells_nobody() {
        let old = session();
        let new = SessionItem {
            last_seen_at: Some(at("2026-12-07T10:04:00.000Z")),
            ..old.clone()
        };
        let plan = planned(&old, &new);
        assert!(plan.frames.is_empty() && plan.closings.is_empty() && plan.list_row.is_none());
    }

    #[test]
    fn a_deactivated_agent_is_closed_and_a_password_reset_closes_older_connections() {
        let admin = AdminItem::new(
            "adm_a".into(),
            "a@example.com".into(),
            "A".into(),
            "hash".into(),
            at("2026-12-07T09:00:00.000Z"),
        );
        let deactivated = AdminItem {
            active: false,
            token_generation: 1,
            ..admin.clone()
        };
        let planned_change = plan(
            Change::Admin {
                old: Some(Box::new(admin.clone())),
                new: Some(Box::new(deactivated)),
            },
            "9",
            at("2026-12-07T10:00:00.000Z"),
        );
        assert_eq!(
            planned_change.closings[0].whom,
            Closed::AgentRetired {
                admin_id: "adm_a".into(),
                active: false,
                current: 1
            }
        );
        let renamed = AdminItem {
            name: "Ada".into(),
            ..admin.clone()
        };
        let renamed_plan = plan(
            Change::Admin {
                old: Some(Box::new(admin)),
                new: Some(Box::new(renamed)),
            },
            "10",
            at("2026-12-07T10:00:00.000Z"),
        );
        assert!(renamed_plan.closings.is_empty(), "a rename closes nothing");
    }

    #[test]
    fn only_sessions_agents_and_messages_make_events() {
        assert_eq!(item_kind("SESSION"), Some(ItemKind::Session));
        assert_eq!(item_kind("ADMIN"), Some(ItemKind::Admin));
        assert_eq!(item_kind("MSG#000000000001"), Some(ItemKind::Message));
        for other in ["IDEM#user#k", "CONN#abc=", "ACT#x", "TICKET", "COUNTER"] {
            assert_eq!(item_kind(other), None, "{other}");
        }
    }
}
