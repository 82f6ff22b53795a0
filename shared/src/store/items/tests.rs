//! Items decode from what the table holds into typed ids and times, and encode back to exactly
//! the same attributes (the stored format predates the types and must not change).

use super::*;
use crate::clock::parse_iso8601;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: u64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn map(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

fn at(text: &str) -> DateTime<Utc> {
    parse_iso8601(text).unwrap()
}

/// A session as the table holds it after a user message (waiting) was answered late, the
/// session ended by an agent and rated: every typed attribute present.
fn stored_session() -> Item {
    let preview = map(&[
        ("messageId", s("msg_000000000003")),
        ("message", s("Anyone?")),
        ("sender", s("user")),
        ("timestamp", s("2026-11-28T10:05:00.250Z")),
    ]);
    map(&[
        ("PK", s("SESSION#chat_1700000000000_abc")),
        ("SK", s("SESSION")),
        ("entity", s("session")),
        ("sessionId", s("chat_1700000000000_abc")),
        ("userInfo", AttributeValue::M(map(&[("name", s("Ann"))]))),
        ("status", s("ended_by_admin")),
        ("startTime", s("2026-11-28T10:00:00.000Z")),
        ("tokenHash", s("hash")),
        ("lastSeq", n(3)),
        ("supportCount", n(1)),
        ("deliveredSupportSeq", n(2)),
        ("deliveredSupportCount", n(1)),
        ("deliveryFrom", n(0)),
        ("lastMessage", AttributeValue::M(preview)),
        ("waitingSince", s("2026-11-28T10:05:00.250Z")),
        ("endTime", s("2026-11-28T10:07:30.001Z")),
        ("endedBy", s("adm_agent1")),
        ("endReason", s("admin")),
        ("lastSeenAt", s("2026-11-28T10:05:00.250Z")),
        ("tokenPresented", AttributeValue::Bool(true)),
        ("rating", n(4)),
        ("feedback", s("Quick")),
        ("ratedAt", s("2026-11-28T10:08:00.000Z")),
        ("expiresAt", n(1_800_000_000)),
    ])
}

#[test]
fn a_stored_session_decodes_to_typed_ids_and_times_and_encodes_back_unchanged() {
    let item: SessionItem = serde_dynamo::from_item(stored_session()).unwrap();
    assert_eq!(
        item.session_id,
        SessionId::parse("chat_1700000000000_abc").unwrap()
    );
    assert_eq!(item.start_time, at("2026-11-28T10:00:00.000Z"));
    assert_eq!(item.end_time, Some(at("2026-11-28T10:07:30.001Z")));
    assert_eq!(item.waiting_since, Some(at("2026-11-28T10:05:00.250Z")));
    assert_eq!(item.last_seen_at, Some(at("2026-11-28T10:05:00.250Z")));
    assert_eq!(item.rated_at, Some(at("2026-11-28T10:08:00.000Z")));
    assert_eq!(item.ended_by, Some(EndedBy::Agent("adm_agent1".into())));
    let last = item.last_message.as_ref().unwrap();
    assert_eq!(last.message_id, MessageId::from_seq(3));
    assert_eq!(last.timestamp, at("2026-11-28T10:05:00.250Z"));
    // Typed times compare as times: the end is after the start, by 7 min 30.001 s.
    assert_eq!(
        (item.end_time.unwrap() - item.start_time).num_milliseconds(),
        450_001
    );

    let encoded: Item = serde_dynamo::to_item(&item).unwrap();
    assert_eq!(encoded, stored_session());
}

#[test]
fn a_new_session_is_stored_with_millisecond_times_and_its_keys() {
    let id = SessionId::parse("chat_1700000000000_abc").unwrap();
    let hash = TokenHash::from_stored("hash".into());
    // The clock has nanoseconds; the item keeps what is stored, so it equals what is read back.
    let now = at("2026-11-28T10:00:00.120Z") + chrono::Duration::microseconds(456);
    let item = SessionItem::open(&id, UserInfo::default(), &hash, now);
    let encoded: Item = serde_dynamo::to_item(&item).unwrap();
    assert_eq!(encoded["startTime"], s("2026-11-28T10:00:00.120Z"));
    assert_eq!(encoded["lastSeenAt"], s("2026-11-28T10:00:00.120Z"));
    assert_eq!(
        encoded["GSI1SK"],
        s("2026-11-28T10:00:00.120Z#chat_1700000000000_abc")
    );
    assert_eq!(encoded["sessionId"], s("chat_1700000000000_abc"));
    // Nobody holds a new session: it is in the assignee index's unassigned partition.
    assert_eq!(encoded["GSI5PK"], s("UNASSIGNED"));
    assert_eq!(encoded["GSI5SK"], encoded["GSI1SK"]);
    assert!(!encoded.contains_key("assignedTo"));
    let decoded: SessionItem = serde_dynamo::from_item(encoded).unwrap();
    assert_eq!(decoded, item);
}

#[test]
fn a_held_session_names_its_holder_and_one_stored_before_holders_decodes_as_unassigned() {
    let mut stored = stored_session();
    let holder = map(&[("adminId", s("adm_agent1")), ("name", s("Ada"))]);
    stored.insert("assignedTo".into(), AttributeValue::M(holder));
    let item: SessionItem = serde_dynamo::from_item(stored.clone()).unwrap();
    assert_eq!(
        item.assigned_to,
        Some(Assignee {
            admin_id: "adm_agent1".into(),
            name: "Ada".into()
        })
    );
    assert_eq!(serde_dynamo::to_item::<_, Item>(&item).unwrap(), stored);
    let before: SessionItem = serde_dynamo::from_item(stored_session()).unwrap();
    assert_eq!(before.assigned_to, None);
}

#[test]
fn stored_messages_and_idempotency_records_round_trip() {
    let message = map(&[
        ("PK", s("SESSION#chat_1700000000000_abc")),
        ("SK", s("MSG#000000000007")),
        ("entity", s("message")),
        ("messageId", s("msg_000000000007")),
        ("sender", s("admin")),
        ("message", s("On it")),
        ("timestamp", s("2026-11-28T10:05:00.000Z")),
        ("adminId", s("adm_agent1")),
        ("expiresAt", n(1_800_000_000)),
    ]);
    let item: MessageItem = serde_dynamo::from_item(message.clone()).unwrap();
    assert_eq!(item.message_id, MessageId::from_seq(7));
    assert_eq!(item.timestamp, at("2026-11-28T10:05:00.000Z"));
    assert_eq!(serde_dynamo::to_item::<_, Item>(&item).unwrap(), message);

    let record = map(&[
        ("PK", s("SESSION#chat_1700000000000_abc")),
        ("SK", s("IDEM#user#k-1")),
        ("entity", s("idempotency")),
        ("messageId", s("msg_000000000007")),
        ("timestamp", s("2026-11-28T10:05:00.000Z")),
        ("textHash", s("ab12")),
        ("expiresAt", n(1_800_000_000)),
    ]);
    let item: IdempotencyItem = serde_dynamo::from_item(record.clone()).unwrap();
    assert_eq!(item.message_id, MessageId::from_seq(7));
    assert_eq!(item.timestamp, at("2026-11-28T10:05:00.000Z"));
    assert_eq!(serde_dynamo::to_item::<_, Item>(&item).unwrap(), record);
}

#[test]
fn stored_agents_and_activity_entries_round_trip() {
    let admin = map(&[
        ("PK", s("ADMIN#adm_agent1")),
        ("SK", s("ADMIN")),
        ("GSI2PK", s("ADMIN")),
        ("GSI2SK", s("ada@example.com")),
        ("entity", s("admin")),
        ("adminId", s("adm_agent1")),
        ("email", s("ada@example.com")),
        ("name", s("Ada")),
        ("passwordHash", s("$argon2id$...")),
        ("active", AttributeValue::Bool(true)),
        ("createdAt", s("2026-11-01T08:00:00.000Z")),
        ("passwordChangedAt", n(1_793_520_000)),
        ("tokenGeneration", n(2)),
    ]);
    let item: AdminItem = serde_dynamo::from_item(admin.clone()).unwrap();
    assert_eq!(item.created_at, at("2026-11-01T08:00:00.000Z"));
    assert_eq!(serde_dynamo::to_item::<_, Item>(&item).unwrap(), admin);

    let entry = map(&[
        ("PK", s("SESSION#chat_1700000000000_abc")),
        ("SK", s("ACT#2026-11-28T10:07:30.001Z#a1b2c3d4e5f6")),
        ("GSI1PK", s("ACTIVITY#adm_agent1")),
        ("GSI1SK", s("2026-11-28T10:07:30.001Z#a1b2c3d4e5f6")),
        ("GSI2PK", s("ACTIVITY")),
        ("GSI2SK", s("2026-11-28T10:07:30.001Z#a1b2c3d4e5f6")),
        ("entity", s("activity")),
        ("activityId", s("2026-11-28T10:07:30.001Z#a1b2c3d4e5f6")),
        ("adminId", s("adm_agent1")),
        ("action", s("ENDED_SESSION")),
        ("sessionId", s("chat_1700000000000_abc")),
        ("details", AttributeValue::M(map(&[("duration", n(450))]))),
        ("timestamp", s("2026-11-28T10:07:30.001Z")),
        ("expiresAt", n(1_800_000_000)),
    ]);
    let item: ActivityItem = serde_dynamo::from_item(entry.clone()).unwrap();
    assert_eq!(item.timestamp, at("2026-11-28T10:07:30.001Z"));
    assert_eq!(serde_dynamo::to_item::<_, Item>(&item).unwrap(), entry);
}

#[test]
fn an_item_with_a_malformed_id_or_time_is_refused_not_defaulted() {
    for (name, value) in [
        ("startTime", "yesterday"),
        ("endTime", "2026-11-28 10:07"),
        ("sessionId", "../etc"),
    ] {
        let mut stored = stored_session();
        stored.insert(name.to_owned(), s(value));
        let decoded = serde_dynamo::from_item::<_, SessionItem>(stored);
        assert!(decoded.is_err(), "{name} = {value:?} was accepted");
    }
    let mut stored = stored_session();
    let Some(AttributeValue::M(preview)) = stored.get_mut("lastMessage") else {
        unreachable!()
    };
    preview.insert("messageId".into(), s("msg_7"));
    assert!(serde_dynamo::from_item::<_, SessionItem>(stored).is_err());
}

#[test]
fn typing_and_read_state_round_trip_and_older_sessions_decode_without_it() {
    let older: SessionItem = serde_dynamo::from_item(stored_session()).unwrap();
    assert_eq!(
        (older.customer_typing_at, older.support_read_up_to),
        (None, None)
    );
    let mut stored = stored_session();
    stored.insert("customerTypingAt".into(), s("2026-11-28T10:05:01.500Z"));
    stored.insert("supportTypingAt".into(), s("2026-11-28T10:05:02.000Z"));
    stored.insert("supportReadUpTo".into(), n(3));
    stored.insert("deliveredSupportId".into(), n(2));
    let item: SessionItem = serde_dynamo::from_item(stored.clone()).unwrap();
    assert_eq!(
        item.customer_typing_at,
        Some(at("2026-11-28T10:05:01.500Z"))
    );
    assert_eq!(item.support_typing_at, Some(at("2026-11-28T10:05:02.000Z")));
    assert_eq!(
        (item.support_read_up_to, item.delivered_support_id),
        (Some(3), Some(2))
    );
    assert_eq!(serde_dynamo::to_item::<_, Item>(&item).unwrap(), stored);
}

#[test]
fn canned_replies_and_their_shortcut_guards_round_trip() {
    let stored = map(&[
        ("PK", s("CANNED")),
        ("SK", s("RESPONSE#cr_0123456789abcdef")),
        ("entity", s("cannedresponse")),
        ("responseId", s("cr_0123456789abcdef")),
        ("shortcut", s("greet")),
        ("text", s("Hello!")),
        ("updatedBy", s("adm_agent1")),
        ("updatedAt", s("2026-11-28T10:05:00.000Z")),
    ]);
    let item: CannedResponseItem = serde_dynamo::from_item(stored.clone()).unwrap();
    assert_eq!(
        item,
        CannedResponseItem::new(
            "cr_0123456789abcdef",
            "greet",
            "Hello!",
            "adm_agent1",
            at("2026-11-28T10:05:00.000Z")
        )
    );
    assert_eq!(serde_dynamo::to_item::<_, Item>(&item).unwrap(), stored);
    let guard: Item =
        serde_dynamo::to_item(ShortcutItem::new("greet", "cr_0123456789abcdef")).unwrap();
    assert_eq!(guard["SK"], s("SHORTCUT#greet"));
    assert_eq!(guard["responseId"], s("cr_0123456789abcdef"));
}
