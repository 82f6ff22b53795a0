use super::*;
use serde_json::json;

/// A record as Lambda delivers it from a DynamoDB stream (NEW_AND_OLD_IMAGES).
fn record(
    name: &str,
    sk: &str,
    old: serde_json::Value,
    new: serde_json::Value,
    identity: Option<&str>,
) -> EventRecord {
    let mut record = json!({
        "eventID": "1",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1765101600,
            "Keys": { "PK": { "S": "SESSION#chat_1700000000000_abc" }, "SK": { "S": sk } },
            "OldImage": old,
            "NewImage": new,
            "SequenceNumber": "1100000000017454423009",
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-12-07T00:00:00.000"
    });
    if let Some(kind) = identity {
        record["userIdentity"] = json!({ "type": kind, "principalId": "dynamodb.amazonaws.com" });
    }
    serde_json::from_value(record).unwrap()
}

fn message_image() -> serde_json::Value {
    json!({
        "PK": { "S": "SESSION#chat_1700000000000_abc" },
        "SK": { "S": "MSG#000000000001" },
        "entity": { "S": "message" },
        "messageId": { "S": "msg_000000000001" },
        "sender": { "S": "admin" },
        "message": { "S": "Hello" },
        "timestamp": { "S": "2026-12-07T10:00:00.000Z" },
        "adminId": { "S": "adm_a" },
        "expiresAt": { "N": "1772000000" }
    })
}

#[test]
fn a_new_message_record_decodes_into_its_frames() {
    let plan = plan_record(&record(
        "INSERT",
        "MSG#000000000001",
        json!(null),
        message_image(),
        None,
    ))
    .unwrap();
    assert_eq!(
        plan.frames.len(),
        3,
        "the holder, the viewers and the customer"
    );
    assert_eq!(plan.frames[0].1.id, "1100000000017454423009");
}

#[test]
fn deletions_by_ttl_and_other_items_make_nothing() {
    let ttl = record(
        "REMOVE",
        "MSG#000000000001",
        message_image(),
        json!(null),
        Some("Service"),
    );
    assert!(plan_record(&ttl).is_none());
    let idempotency = record(
        "INSERT",
        "IDEM#user#k",
        json!(null),
        json!({"PK": {"S": "x"}}),
        None,
    );
    assert!(plan_record(&idempotency).is_none());
    let edited = record(
        "MODIFY",
        "MSG#000000000001",
        message_image(),
        message_image(),
        None,
    );
    assert!(plan_record(&edited).is_none(), "only a new message is news");
}

#[test]
fn an_image_that_does_not_decode_is_skipped_not_retried_forever() {
    let broken = record(
        "INSERT",
        "MSG#000000000001",
        json!(null),
        json!({"PK": {"S": "x"}}),
        None,
    );
    assert!(plan_record(&broken).is_none());
}
