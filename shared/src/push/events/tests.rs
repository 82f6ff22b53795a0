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
    // Whoever has the chat on screen sees what its holder sees.
    assert_eq!(
        kinds_for(&plan, &Audience::ViewersOf(new.session_id.clone())),
        ["typing", "read"]
    );
    let mut ids: Vec<&str> = plan.frames.iter().map(|(_, f)| f.id.as_str()).collect();
    ids.dedup();
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
