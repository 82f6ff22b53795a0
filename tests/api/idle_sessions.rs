//! Abandoned chats end by themselves: a customer not heard from (no poll, no send) for the
//! idle timeout is ended by the sweep; one who keeps polling is not. Time is a manual clock.

use chat_core::ManualClock;
use chat_tests::{spawn_app_at, TestApp};
use chrono::{Duration, Utc};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

async fn active_ids(app: &TestApp, token: &str) -> Vec<String> {
    let list = app
        .admin_get("/api/admin/chat/active-sessions?limit=100", token)
        .await;
    list.data()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_customer_who_goes_quiet_is_ended_after_the_idle_timeout_and_can_still_rate() {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_at(Arc::new(clock.clone()), |_| {}).await; // 10 minutes, the default
    let agent = app.sign_up_agent("Sam").await;
    let quiet = app.start_session("Quiet").await;
    let polling = app.start_session("Polling").await;
    app.user_says(&quiet, "hello?").await;
    app.user_says(&polling, "hi").await;
    assert_eq!(app.total_active().await, 2);

    // Eleven minutes pass; one customer polls every minute (the app every 2 s, compressed),
    // the other closed the app.
    app.requests.take();
    for _ in 0..11 {
        clock.advance(Duration::minutes(1));
        app.poll(&polling.session_id, Some(&polling.token), None)
            .await
            .data();
    }
    // Presence costs at most one write per quarter of the timeout; every other poll is one read.
    let polls = app.requests.take();
    assert_eq!(polls["GetItem"], 11, "{polls:?}");
    let presence_writes = polls.get("UpdateItem").copied().unwrap_or(0);
    assert!(
        (1..=4).contains(&presence_writes),
        "{presence_writes} presence writes in 11 minutes"
    );

    // The sweep reads the presence index, never the table, then those sessions (for the
    // start time the analytics count the duration from), and ends only the quiet one.
    assert_eq!(app.run_idle_sweep().await, 1);
    assert_eq!(
        app.requests.take(),
        counts(&[("BatchGetItem", 1), ("Query", 1), ("TransactWriteItems", 1)]),
        "one index Query, one read of the idle sessions, one transaction per idle session"
    );
    let polled = app.poll(&quiet.session_id, Some(&quiet.token), None).await;
    let data = polled.data();
    assert_eq!(
        (
            &data["sessionEnded"],
            &data["sessionStatus"],
            &data["endReason"]
        ),
        (&json!(true), &json!("ended"), &json!("idle"))
    );
    // Gone from the agents' list and from the count; the transcript says why.
    assert_eq!(
        active_ids(&app, &agent.token).await,
        vec![polling.session_id]
    );
    assert_eq!(app.total_active().await, 1);
    let transcript = app
        .admin_get(
            &format!("/api/admin/chat/messages/{}", quiet.session_id),
            &agent.token,
        )
        .await;
    assert_eq!(transcript.data()["session"]["endReason"], "idle");
    assert_eq!(transcript.data()["session"]["status"], "ended");
    let stored = app.transcript(&quiet.session_id).await.session.unwrap();
    assert!(stored.expires_at.is_some(), "an ended session gets its TTL");

    // An agent's late reply gets the same answer as for any ended chat; the customer may rate.
    app.admin_post(
        "/api/admin/chat/message",
        &agent.token,
        &json!({ "sessionId": quiet.session_id, "message": "Still there?", "sender": "admin" }),
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");
    app.rate(
        Some(&quiet.token),
        &json!({ "sessionId": quiet.session_id, "rating": 3 }),
    )
    .await
    .data();
    assert_eq!(app.run_idle_sweep().await, 0, "nothing more to end");
}

#[tokio::test]
async fn the_other_ways_of_ending_say_why_too() {
    let app = spawn_app_at(Arc::new(ManualClock::new(Utc::now())), |_| {}).await;
    let agent = app.sign_up_agent("Sam").await;
    let left = app.start_session("Leaves").await;
    let ended = app.start_session("Ended").await;
    app.leave(&left).await.data();
    app.admin_post(
        "/api/admin/chat/session/end",
        &agent.token,
        &json!({ "sessionId": ended.session_id }),
    )
    .await
    .data();
    for (session, status, reason) in [
        (&left, "ended", "user"),
        (&ended, "ended_by_admin", "admin"),
    ] {
        let polled = app
            .poll(&session.session_id, Some(&session.token), None)
            .await;
        assert_eq!(polled.data()["sessionStatus"], status);
        assert_eq!(polled.data()["endReason"], reason);
    }
    assert_eq!(app.total_active().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_racing_the_sweep_is_stored_and_keeps_the_chat_or_is_refused() {
    let clock = ManualClock::new(Utc::now());
    let app = Arc::new(spawn_app_at(Arc::new(clock.clone()), |_| {}).await);
    let mut sessions = Vec::new();
    for i in 0..12 {
        sessions.push(app.start_session(&format!("Customer {i}")).await);
    }
    clock.advance(Duration::minutes(11));
    // Every customer writes at the moment the sweep runs.
    let senders: Vec<_> = sessions
        .iter()
        .cloned()
        .map(|session| {
            let app = app.clone();
            tokio::spawn(async move {
                let body = json!({ "sessionId": session.session_id, "message": "back!" });
                let answer = app.send_message(Some(&session.token), &body).await;
                (session, answer)
            })
        })
        .collect();
    let swept = app.run_idle_sweep().await;
    let mut stored_and_kept = 0;
    for sender in senders {
        let (session, answer) = sender.await.unwrap();
        let state = app.transcript(&session.session_id).await;
        let stored = state.session.unwrap();
        if answer.status == 200 {
            // Stored: it landed before the sweep's write, which then saw the client present.
            assert_eq!(state.messages.len(), 1);
            assert!(
                stored.status.is_active(),
                "a stored message keeps the chat open"
            );
            stored_and_kept += 1;
        } else {
            answer.assert_error(404, "SESSION_NOT_FOUND");
            assert!(
                state.messages.is_empty(),
                "a refused message stores nothing"
            );
            assert!(!stored.status.is_active());
        }
    }
    assert_eq!(swept + stored_and_kept, sessions.len());
    assert_eq!(app.total_active().await as usize, stored_and_kept);
}
