//! The per-key load model's inputs are what the API does: every operation of
//! `infra/cost/request_mix.json` is performed once here, and its DynamoDB requests (by
//! operation) and the capacity units the local DynamoDB server reports for them must be the
//! file's `requests` and `measured_units`. A change to what an endpoint reads or writes fails
//! here until the mix (and so the per-key table in docs/performance/partition-load.md) is updated.

use chat_core::ManualClock;
use chat_tests::{spawn_app_at, TestApp};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

fn mix() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/cost/request_mix.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the request mix")).expect("JSON")
}

/// What one operation cost, as the mix records it.
#[derive(Debug, PartialEq)]
struct Cost {
    requests: BTreeMap<String, u64>,
    read: f64,
    write: f64,
}

fn recorded(operation: &Value) -> Cost {
    let requests = operation["requests"]
        .as_object()
        .expect("requests")
        .iter()
        .map(|(op, n)| (op.clone(), n.as_u64().expect("a count")))
        .collect();
    let units = &operation["measured_units"];
    Cost {
        requests,
        read: units["read"].as_f64().expect("read units"),
        write: units["write"].as_f64().expect("write units"),
    }
}

/// Runs `action` and returns what it cost in DynamoDB.
async fn measure<T>(app: &TestApp, action: impl Future<Output = T>) -> (T, Cost) {
    app.requests.take();
    app.requests.take_units();
    let value = action.await;
    let requests = app.requests.take();
    let units = app.requests.take_units();
    let of = |kind: &[&str]| -> f64 {
        units
            .iter()
            .filter(|(op, _)| kind.contains(&op.as_str()))
            .map(|(_, u)| u)
            .sum()
    };
    let reads = [
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
    ];
    let writes = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"];
    let cost = Cost {
        requests,
        read: of(&reads),
        write: of(&writes),
    };
    (value, cost)
}

#[tokio::test]
async fn the_request_mix_is_what_each_operation_costs() {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_at(Arc::new(clock.clone()), |_| {}).await;
    let agent = app.sign_up_agent("Sam").await;
    let list = "/api/admin/chat/active-sessions";
    app.admin_get(list, &agent.token).await.data(); // the admin check, cached from here on
    let mut seen: BTreeMap<&str, Cost> = BTreeMap::new();

    let (session, cost) = measure(&app, app.start_session("Ann")).await;
    seen.insert("create_session", cost);
    // A message shortly after the start: presence is not due yet, so its index key stays.
    clock.advance(Duration::seconds(10));
    let (own, cost) = measure(&app, app.user_says(&session, "my parcel is late")).await;
    seen.insert("send_user", cost);
    let (_, cost) = measure(
        &app,
        app.admin_get(&format!("{list}?waiting=true&limit=99"), &agent.token),
    )
    .await;
    seen.insert("admin_list_waiting", cost);
    let (_, cost) = measure(
        &app,
        app.admin_get(&format!("{list}?limit=50"), &agent.token),
    )
    .await;
    seen.insert("admin_list_active", cost);
    let transcript = format!("/api/admin/chat/messages/{}", session.session_id);
    // The customer's message is new to the agent: the read marker is written.
    let (_, cost) = measure(&app, app.admin_get(&transcript, &agent.token)).await;
    seen.insert("admin_open_transcript", cost);
    let typing = json!({ "sessionId": session.session_id });
    let (signal, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/typing", &agent.token, &typing),
    )
    .await;
    signal.data();
    seen.insert("typing_agent", cost);
    let (signal, cost) = measure(
        &app,
        app.post_json("/api/chat/typing", Some(&session.token), &typing),
    )
    .await;
    signal.data();
    seen.insert("typing_user", cost);
    let reply = json!({ "sessionId": session.session_id, "message": "Let me check",
                        "sender": "admin", "messageId": "msg_reply_1" });
    let (replied, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/message", &agent.token, &reply),
    )
    .await;
    seen.insert("send_agent_claiming", cost); // nobody held the chat: the reply claims it
    let reply_id = replied.data()["messageId"].as_str().unwrap().to_owned();
    let (_, cost) = measure(
        &app,
        app.admin_get(&format!("{transcript}?after={reply_id}"), &agent.token),
    )
    .await;
    seen.insert("admin_transcript_after", cost);
    let token = Some(session.token.as_str());
    let (polled, cost) = measure(&app, app.poll(&session.session_id, token, Some(&own))).await;
    assert_eq!(polled.data()["messages"].as_array().unwrap().len(), 1);
    seen.insert("poll_delivering", cost);
    let (_, cost) = measure(&app, app.poll(&session.session_id, token, Some(&reply_id))).await;
    seen.insert("poll_empty", cost);
    clock.advance(Duration::minutes(3)); // past a quarter of the 10-minute idle timeout
    let (_, cost) = measure(&app, app.poll(&session.session_id, token, Some(&reply_id))).await;
    seen.insert("poll_presence", cost);
    let (_, cost) = measure(&app, app.leave(&session)).await;
    seen.insert("leave", cost);
    let rating = json!({ "sessionId": session.session_id, "rating": 5 });
    let (_, cost) = measure(&app, app.rate(token, &rating)).await;
    seen.insert("rating", cost);

    let other = app.start_session("Bo").await;
    let colleague = app.sign_up_agent("Cy").await;
    app.admin_get(list, &agent.token).await.data(); // the admin check again, after 3 minutes
    app.admin_get(list, &colleague.token).await.data();
    let (_, cost) = measure(
        &app,
        app.admin_get("/api/admin/analytics/summary", &agent.token),
    )
    .await;
    seen.insert("analytics_summary", cost);
    let (_, cost) = measure(
        &app,
        app.admin_get("/api/admin/canned-responses", &agent.token),
    )
    .await;
    seen.insert("canned_list", cost);
    let (_, cost) = measure(&app, app.admin_get("/api/admin/agents", &agent.token)).await;
    seen.insert("agents_list", cost);
    let held = json!({ "sessionId": other.session_id });
    let (claimed, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/claim", &agent.token, &held),
    )
    .await;
    claimed.data();
    seen.insert("claim", cost);
    // A customer message the agent has not seen yet: the open chat's next read marks it read.
    let other_transcript = format!("/api/admin/chat/messages/{}", other.session_id);
    let hello = app.user_says(&other, "hello").await;
    app.admin_get(&other_transcript, &agent.token).await.data();
    app.user_says(&other, "are you there?").await;
    let (news, cost) = measure(
        &app,
        app.admin_get(&format!("{other_transcript}?after={hello}"), &agent.token),
    )
    .await;
    assert_eq!(news.data()["messages"].as_array().unwrap().len(), 1);
    seen.insert("admin_transcript_after_unread", cost);
    // The holder answers the waiting customer: the chat leaves the waiting list.
    let held_reply = json!({ "sessionId": other.session_id, "message": "Checking",
                             "sender": "admin", "messageId": "msg_reply_2" });
    let (_, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/message", &agent.token, &held_reply),
    )
    .await;
    seen.insert("send_agent", cost);
    let handover = json!({ "sessionId": other.session_id, "toAdminId": colleague.admin_id });
    let (moved, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/transfer", &agent.token, &handover),
    )
    .await;
    moved.data();
    seen.insert("transfer", cost);
    let (released, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/release", &colleague.token, &held),
    )
    .await;
    released.data();
    seen.insert("release", cost);
    let end = json!({ "sessionId": other.session_id });
    let (_, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/session/end", &agent.token, &end),
    )
    .await;
    seen.insert("admin_end", cost);
    let (_, cost) = measure(&app, app.login(&agent.email, &agent.password)).await;
    seen.insert("admin_sign_in", cost);

    let mix = mix();
    let operations = mix["operations"].as_object().expect("operations");
    let names: Vec<&str> = operations.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        seen.keys().copied().collect::<Vec<_>>(),
        "every operation of the mix, and only those, is measured here"
    );
    let differing: Vec<String> = operations
        .iter()
        .filter(|(name, operation)| seen[name.as_str()] != recorded(operation))
        .map(|(name, operation)| {
            let (now, mix) = (&seen[name.as_str()], recorded(operation));
            format!("{name}: measured {now:?}, the mix says {mix:?}")
        })
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
