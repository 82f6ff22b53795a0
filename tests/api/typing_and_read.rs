//! Typing signals and read state: carried by the poll and the transcript read that already
//! happen, written at most every 3 s per side. Time is a manual clock.

use chat_core::ManualClock;
use chat_tests::{spawn_app_at, Agent, ClientSession, TestApp, WRONG_TOKEN};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

async fn app_with_clock() -> (TestApp, ManualClock) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_at(Arc::new(clock.clone()), |_| {}).await;
    (app, clock)
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

async fn customer_types(app: &TestApp, session: &ClientSession) -> chat_tests::ApiResponse {
    app.post_json(
        "/api/chat/typing",
        Some(&session.token),
        &json!({ "sessionId": session.session_id }),
    )
    .await
}

async fn agent_types(app: &TestApp, agent: &Agent, session_id: &str) -> chat_tests::ApiResponse {
    app.admin_post(
        "/api/admin/chat/typing",
        &agent.token,
        &json!({ "sessionId": session_id }),
    )
    .await
}

async fn transcript(app: &TestApp, agent: &Agent, session_id: &str, after: Option<&str>) -> Value {
    let query = after.map(|a| format!("?after={a}")).unwrap_or_default();
    app.admin_get(
        &format!("/api/admin/chat/messages/{session_id}{query}"),
        &agent.token,
    )
    .await
    .data()
    .clone()
}

async fn poll(app: &TestApp, session: &ClientSession, after: Option<&str>) -> Value {
    app.poll(&session.session_id, Some(&session.token), after)
        .await
        .data()
        .clone()
}

#[tokio::test]
async fn the_customers_typing_shows_in_the_transcript_for_five_seconds_one_write_per_3_s() {
    let (app, clock) = app_with_clock().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let own = app.user_says(&session, "hello").await;
    assert_eq!(
        transcript(&app, &agent, &session.session_id, None).await["customerTyping"],
        false
    );

    app.requests.take();
    let typed = customer_types(&app, &session).await;
    assert_eq!(typed.data()["throttled"], false);
    assert_eq!(
        app.requests.take(),
        counts(&[("UpdateItem", 1)]),
        "one write"
    );
    let data = transcript(&app, &agent, &session.session_id, Some(&own)).await;
    assert_eq!(data["customerTyping"], true);

    // Within 3 s: 200, throttled, and nothing in the table changes.
    clock.advance(Duration::milliseconds(2_900));
    let before = app.table_contents().await;
    app.requests.take();
    let again = customer_types(&app, &session).await;
    assert_eq!(again.data()["throttled"], true);
    assert_eq!(
        app.requests.take(),
        counts(&[("UpdateItem", 1)]),
        "the refused conditional write is the only request (no second read)"
    );
    assert_eq!(
        app.table_contents().await,
        before,
        "a throttled call writes nothing"
    );

    // 6 s after the signal, it no longer shows.
    clock.advance(Duration::milliseconds(3_100));
    let data = transcript(&app, &agent, &session.session_id, Some(&own)).await;
    assert_eq!(data["customerTyping"], false);
    // Past the interval the next call writes again.
    assert_eq!(
        customer_types(&app, &session).await.data()["throttled"],
        false
    );
    let data = transcript(&app, &agent, &session.session_id, Some(&own)).await;
    assert_eq!(data["customerTyping"], true);
}

#[tokio::test]
async fn typing_is_refused_as_a_send_is_and_stores_nothing() {
    let (app, _clock) = app_with_clock().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let before = app.table_contents().await;
    let body = json!({ "sessionId": session.session_id });
    app.post_json("/api/chat/typing", Some(WRONG_TOKEN), &body)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    app.post_json("/api/chat/typing", None, &body)
        .await
        .assert_error(401, "NO_TOKEN");
    app.post_json("/api/chat/typing", Some(&session.token), &json!({}))
        .await
        .assert_error(400, "INVALID_SESSION_DATA");
    let unknown = json!({ "sessionId": "chat_unknown_session" });
    app.post_json("/api/chat/typing", Some(&session.token), &unknown)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    app.admin_post("/api/admin/chat/typing", &agent.token, &unknown)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    app.post_json("/api/admin/chat/typing", None, &body)
        .await
        .assert_error(401, "NO_TOKEN");
    assert_eq!(app.table_contents().await, before);

    app.leave(&session).await.data();
    let ended = app.table_contents().await;
    customer_types(&app, &session)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    agent_types(&app, &agent, &session.session_id)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    assert_eq!(app.table_contents().await, ended);
}

#[tokio::test]
async fn the_agents_typing_reaches_the_poll_for_five_seconds() {
    let (app, clock) = app_with_clock().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let own = app.user_says(&session, "hello").await;
    assert_eq!(
        poll(&app, &session, Some(&own)).await["supportTyping"],
        false
    );

    assert_eq!(
        agent_types(&app, &agent, &session.session_id).await.data()["throttled"],
        false
    );
    clock.advance(Duration::seconds(1));
    assert_eq!(
        agent_types(&app, &agent, &session.session_id).await.data()["throttled"],
        true
    );
    app.requests.take();
    assert_eq!(
        poll(&app, &session, Some(&own)).await["supportTyping"],
        true
    );
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1)]),
        "the poll still reads only the session"
    );
    clock.advance(Duration::seconds(5));
    assert_eq!(
        poll(&app, &session, Some(&own)).await["supportTyping"],
        false
    );
}

#[tokio::test]
async fn each_side_sees_how_far_the_other_has_read() {
    let (app, _clock) = app_with_clock().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let first = app.user_says(&session, "my order is late").await;
    assert_eq!(
        poll(&app, &session, Some(&first)).await["supportReadUpTo"],
        Value::Null
    );

    // The agent opens the chat: the customer's poll shows the message as read. (The agent's
    // account is checked, and cached, by an earlier call.)
    app.admin_get("/api/admin/activity", &agent.token)
        .await
        .data();
    app.requests.take();
    let opened = transcript(&app, &agent, &session.session_id, None).await;
    assert_eq!(opened["customerReadUpTo"], Value::Null);
    assert_eq!(
        app.requests.take(),
        counts(&[("Query", 1), ("PutItem", 1), ("UpdateItem", 1)]),
        "transcript + VIEWED_SESSION + the read marker moving"
    );
    app.requests.take();
    let polled = poll(&app, &session, Some(&first)).await;
    assert_eq!(polled["supportReadUpTo"], first.as_str());
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1)]),
        "poll = 1 request"
    );

    // Nothing new: no write.
    let opened = transcript(&app, &agent, &session.session_id, Some(&first)).await;
    assert_eq!(app.requests.take(), counts(&[("Query", 1)]));
    assert_eq!(opened["messages"].as_array().unwrap().len(), 0);

    // The agent replies; once the customer's poll returned it, the transcript says so.
    let reply = app
        .agent_replies(&agent, &session.session_id, "on its way")
        .await;
    let data = transcript(&app, &agent, &session.session_id, Some(&first)).await;
    assert_eq!(data["customerReadUpTo"], Value::Null, "not polled yet");
    let polled = poll(&app, &session, Some(&first)).await;
    assert_eq!(polled["messages"][0]["messageId"], reply.as_str());
    let data = transcript(&app, &agent, &session.session_id, Some(&reply)).await;
    assert_eq!(data["customerReadUpTo"], reply.as_str());

    // The customer writes again (the shipped app's cursor jumps to it); a second reply is
    // returned by the catch-up poll and the marker moves to it, not to the customer's message.
    let second = app.user_says(&session, "thanks").await;
    let data = transcript(&app, &agent, &session.session_id, Some(&reply)).await;
    assert_eq!(data["messages"][0]["messageId"], second.as_str());
    assert_eq!(
        poll(&app, &session, Some(&second)).await["supportReadUpTo"],
        second.as_str()
    );
    let last = app
        .agent_replies(&agent, &session.session_id, "welcome")
        .await;
    let own = app.user_says(&session, "bye").await;
    let polled = poll(&app, &session, Some(&own)).await;
    assert_eq!(polled["messages"][0]["messageId"], last.as_str());
    let data = transcript(&app, &agent, &session.session_id, Some(&last)).await;
    assert_eq!(data["customerReadUpTo"], last.as_str());
}

#[tokio::test]
async fn in_migration_mode_typing_follows_the_token_rules_of_a_send() {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_at(Arc::new(clock.clone()), |config| {
        config.require_client_token = false
    })
    .await;
    let session = app.start_session("Ann").await;
    let body = json!({ "sessionId": session.session_id });
    // An old app build without the header may signal typing...
    let tokenless = app.post_json("/api/chat/typing", None, &body).await;
    assert_eq!(tokenless.data()["throttled"], false);
    // ...until the session has seen its token (remembered by the typing write itself).
    clock.advance(Duration::seconds(4));
    customer_types(&app, &session).await.data();
    clock.advance(Duration::seconds(4));
    app.post_json("/api/chat/typing", None, &body)
        .await
        .assert_error(401, "NO_TOKEN");
    app.post_json("/api/chat/typing", Some(WRONG_TOKEN), &body)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
}
