//! DynamoDB misbehaves (throttles, refuses, resets, stalls): every endpoint answers 503
//! `SERVICE_UNAVAILABLE` with `Retry-After`, promptly, and the table is exactly as before.
//!
//! Each case runs the request on a second instance of the API (`twin_through`) whose DynamoDB
//! client has the production timeouts and retries and reaches DynamoDB through a
//! [`FaultProxy`]; the test sets up and inspects the table directly.

use chat_core::app::DYNAMODB_ANSWER_BUDGET;
use chat_tests::fault_proxy::{Fault, FaultProxy};
use chat_tests::{dynamodb_endpoint, spawn_app, Agent, ApiResponse, ClientSession, TestApp};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

struct Scene {
    app: TestApp,
    twin: TestApp,
    proxy: FaultProxy,
    session: ClientSession,
    agent: Agent,
}

/// A session with a message in it and a signed-in agent, then the faulty twin.
async fn scene() -> Scene {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    app.user_says(&session, "Hello?").await;
    let agent = app.sign_up_agent("Sam").await;
    let proxy = FaultProxy::start(&dynamodb_endpoint()).await;
    let twin = app.twin_through(&proxy.endpoint()).await;
    Scene {
        app,
        twin,
        proxy,
        session,
        agent,
    }
}

type Call<'s> = Pin<Box<dyn Future<Output = ApiResponse> + 's>>;

/// The request under `fault` answers 503 in the envelope, with `Retry-After`, within the
/// budget, and stores nothing.
async fn assert_unavailable(fault: Fault, request: impl for<'s> FnOnce(&'s Scene) -> Call<'s>) {
    let scene = scene().await;
    let before = scene.app.table_contents().await;
    scene.proxy.set(fault).await;
    let started = Instant::now();
    let response = request(&scene).await;
    let elapsed = started.elapsed();
    response.assert_error(503, "SERVICE_UNAVAILABLE");
    let retry_after = response
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After in seconds"
    );
    // A generous sanity check only: the configured limits are asserted in chat_core::app.
    assert!(
        elapsed < DYNAMODB_ANSWER_BUDGET,
        "{fault:?} answered after {elapsed:?}"
    );
    if fault != Fault::ConnectionRefused {
        assert!(
            !scene.proxy.seen().is_empty(),
            "the request must have reached the faulty DynamoDB"
        );
    }
    assert_eq!(scene.app.table_contents().await, before, "{fault:?} wrote");
}

fn message_body(scene: &Scene) -> serde_json::Value {
    json!({ "sessionId": scene.session.session_id, "message": "Still there?", "sender": "user", "messageId": "key-1" })
}

#[tokio::test]
async fn create_session_when_throttled() {
    assert_unavailable(Fault::ProvisionedThroughputExceeded, |s| {
        Box::pin(async move {
            s.twin
                .create_session(&json!({ "userInfo": { "name": "Bo", "isGuest": true } }))
                .await
        })
    })
    .await;
}

#[tokio::test]
async fn send_message_when_throttled() {
    assert_unavailable(Fault::Throttling, |s| {
        Box::pin(async move {
            s.twin
                .send_message(Some(&s.session.token), &message_body(s))
                .await
        })
    })
    .await;
}

#[tokio::test]
async fn poll_when_refused() {
    assert_unavailable(Fault::ConnectionRefused, |s| {
        Box::pin(async move {
            s.twin
                .poll(&s.session.session_id, Some(&s.session.token), None)
                .await
        })
    })
    .await;
}

#[tokio::test]
async fn rating_when_reset() {
    assert_unavailable(Fault::ConnectionReset, |s| {
        Box::pin(async move {
            s.twin
                .rate(
                    Some(&s.session.token),
                    &json!({ "sessionId": s.session.session_id, "rating": 5 }),
                )
                .await
        })
    })
    .await;
}

#[tokio::test]
async fn leave_when_slow() {
    assert_unavailable(Fault::Slow, |s| {
        Box::pin(async move { s.twin.leave(&s.session).await })
    })
    .await;
}

#[tokio::test]
async fn health_when_throttled() {
    assert_unavailable(Fault::ProvisionedThroughputExceeded, |s| {
        Box::pin(async move { s.twin.get("/api/health", None).await })
    })
    .await;
}

#[tokio::test]
async fn admin_login_when_reset() {
    assert_unavailable(Fault::ConnectionReset, |s| {
        Box::pin(async move { s.twin.login(&s.agent.email, &s.agent.password).await })
    })
    .await;
}

#[tokio::test]
async fn active_sessions_when_refused() {
    assert_unavailable(Fault::ConnectionRefused, |s| {
        Box::pin(async move {
            s.twin
                .admin_get("/api/admin/chat/active-sessions", &s.agent.token)
                .await
        })
    })
    .await;
}

#[tokio::test]
async fn session_messages_when_throttled() {
    assert_unavailable(Fault::Throttling, |s| {
        Box::pin(async move {
            let path = format!("/api/admin/chat/messages/{}", s.session.session_id);
            s.twin.admin_get(&path, &s.agent.token).await
        })
    })
    .await;
}

#[tokio::test]
async fn admin_send_message_when_slow() {
    assert_unavailable(Fault::Slow, |s| {
        Box::pin(async move {
            s.twin.admin_post(
            "/api/admin/chat/message",
            &s.agent.token,
            &json!({ "sessionId": s.session.session_id, "message": "On it", "sender": "admin" }),
        ).await
        })
    })
    .await;
}

#[tokio::test]
async fn admin_end_session_when_reset() {
    assert_unavailable(Fault::ConnectionReset, |s| {
        Box::pin(async move {
            s.twin
                .admin_post(
                    "/api/admin/chat/session/end",
                    &s.agent.token,
                    &json!({ "sessionId": s.session.session_id }),
                )
                .await
        })
    })
    .await;
}

#[tokio::test]
async fn activity_log_when_throttled() {
    assert_unavailable(Fault::ProvisionedThroughputExceeded, |s| {
        Box::pin(async move {
            s.twin
                .admin_get("/api/admin/activity", &s.agent.token)
                .await
        })
    })
    .await;
}

/// An admin whose record is already cached still gets the 503 from the request's own work.
#[tokio::test]
async fn a_cached_admin_check_does_not_hide_the_fault() {
    let scene = scene().await;
    let list = "/api/admin/chat/active-sessions";
    // Warm the twin's admin cache (retried: its tight timeouts meet a busy local server).
    let mut warmed = false;
    for _ in 0..3 {
        if scene.twin.admin_get(list, &scene.agent.token).await.status == 200 {
            warmed = true;
            break;
        }
    }
    assert!(warmed, "the twin answers while DynamoDB is well");
    scene.proxy.set(Fault::Throttling).await;
    scene
        .twin
        .admin_get(list, &scene.agent.token)
        .await
        .assert_error(503, "SERVICE_UNAVAILABLE");
}

/// The send commits but its answer is lost: the client sees a 503, retries with the same
/// `messageId`, gets the same message back, and the message is stored once.
#[tokio::test]
async fn a_send_whose_answer_is_lost_is_stored_once_when_retried() {
    let scene = scene().await;
    let body = message_body(&scene);
    scene
        .proxy
        .set_for(Fault::ResetAfterForwarding, Some("TransactWriteItems"))
        .await;
    scene
        .twin
        .send_message(Some(&scene.session.token), &body)
        .await
        .assert_error(503, "SERVICE_UNAVAILABLE");
    let stored = scene.app.transcript(&scene.session.session_id).await;
    let texts: Vec<&str> = stored.messages.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(
        texts,
        ["Hello?", "Still there?"],
        "the transaction committed"
    );

    // The app retries later; any instance may take it (this one has DynamoDB's usual patience
    // even while the test binary keeps the local server busy).
    let retried = scene
        .app
        .send_message(Some(&scene.session.token), &body)
        .await;
    assert_eq!(
        retried.data()["messageId"],
        stored.messages[1].message_id.to_string()
    );
    let after = scene.app.transcript(&scene.session.session_id).await;
    assert_eq!(after.messages.len(), 2, "stored once");
}

/// A transaction commits but its answer is lost; the SDK retries it at once with the same
/// `ClientRequestToken` (it fills one in for every TransactWriteItems), and DynamoDB answers the
/// retry as the first time. Stock moto runs it again (the create then fails on its own first
/// attempt: 409); the local server replays it as DynamoDB does. The send is stored once.
#[tokio::test]
async fn a_transaction_retried_by_the_sdk_after_a_lost_answer_is_applied_once() {
    let scene = scene().await;
    let active = scene.app.total_active().await;
    scene
        .proxy
        .set_for(Fault::ResetOnceAfterForwarding, Some("TransactWriteItems"))
        .await;
    let created = scene
        .twin
        .create_session(&json!({ "userInfo": { "name": "Bea" } }))
        .await;
    created.data();
    assert_eq!(scene.app.total_active().await, active + 1, "counted once");

    // The shipped app sends no messageId: only the token keeps the retry from storing twice.
    scene
        .proxy
        .set_for(Fault::ResetOnceAfterForwarding, Some("TransactWriteItems"))
        .await;
    let body = json!({ "sessionId": scene.session.session_id, "message": "once" });
    scene
        .twin
        .send_message(Some(&scene.session.token), &body)
        .await
        .data();
    let stored = scene.app.transcript(&scene.session.session_id).await;
    let texts: Vec<&str> = stored.messages.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(texts, ["Hello?", "once"]);
    assert!(
        scene
            .proxy
            .seen()
            .iter()
            .filter(|op| *op == "TransactWriteItems")
            .count()
            >= 4,
        "each transaction really went twice: {:?}",
        scene.proxy.seen()
    );
}
