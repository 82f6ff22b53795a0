//! The client endpoints under misuse: idempotency keys reused with other text, tokens in the
//! app's migration mode, blank headers, and what one poll may read.

use chat_tests::{spawn_app, spawn_app_with, WRONG_TOKEN};
use serde_json::json;
use std::collections::BTreeMap;

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

#[tokio::test]
async fn a_message_id_reused_with_other_text_is_refused_and_agents_keys_never_collide() {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    let send = |text: &str| json!({ "sessionId": session.session_id, "message": text, "messageId": "m-1" });
    let first = app.send_message(Some(&session.token), &send("hello")).await;
    let again = app.send_message(Some(&session.token), &send("hello")).await;
    assert_eq!(
        first.data(),
        again.data(),
        "a retry returns the first result"
    );
    let before = app.table_contents().await;
    app.send_message(Some(&session.token), &send("something else"))
        .await
        .assert_error(409, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(app.table_contents().await, before, "nothing stored");

    // Two agents happen to use the same key: two replies, both stored (the second agent
    // replies in the first one's session on purpose: `force`).
    let (ada, bo) = (
        app.sign_up_agent("Ada").await,
        app.sign_up_agent("Bo").await,
    );
    for (agent, text) in [(&ada, "from Ada"), (&bo, "from Bo")] {
        app.admin_post(
            "/api/admin/chat/message",
            &agent.token,
            &json!({ "sessionId": session.session_id, "message": text,
                     "sender": "admin", "messageId": "dashboard-1", "force": true }),
        )
        .await
        .data();
    }
    let stored = app.transcript(&session.session_id).await.messages;
    let texts: Vec<&str> = stored.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(texts, ["hello", "from Ada", "from Bo"]);
}

#[tokio::test]
async fn once_a_session_has_seen_its_token_it_is_required_even_in_migration_mode() {
    let app = spawn_app_with(|config| config.require_client_token = false).await;
    let old_build = app.start_session("Old build").await;
    let body = json!({ "sessionId": old_build.session_id, "message": "hi" });
    // An app build without the header keeps working on its own session...
    app.send_message(None, &body).await.data();
    app.poll(&old_build.session_id, None, None).await.data();

    // ...but once the token has been presented, nobody may act on that session without it.
    let new_build = app.start_session("New build").await;
    let body = json!({ "sessionId": new_build.session_id, "message": "hi" });
    app.poll(&new_build.session_id, Some(&new_build.token), None)
        .await
        .data();
    let before = app.table_contents().await;
    app.send_message(None, &body)
        .await
        .assert_error(401, "NO_TOKEN");
    app.poll(&new_build.session_id, None, None)
        .await
        .assert_error(401, "NO_TOKEN");
    app.post_json(
        "/api/chat/session/end",
        None,
        &json!({ "sessionId": new_build.session_id }),
    )
    .await
    .assert_error(401, "NO_TOKEN");
    assert_eq!(app.table_contents().await, before);
    // A send with the token marks it too (in the same transaction).
    let other = app.start_session("Other").await;
    app.user_says(&other, "with my token").await;
    app.leave(&other).await.data();
    app.rate(None, &json!({ "sessionId": other.session_id, "rating": 1 }))
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn a_blank_or_malformed_token_header_is_refused_in_either_mode() {
    for require in [true, false] {
        let app = spawn_app_with(|config| config.require_client_token = require).await;
        let session = app.start_session("Ann").await;
        let before = app.table_contents().await;
        let long = "A".repeat(300);
        for header in ["", "   ", "not a token", long.as_str(), &WRONG_TOKEN[1..]] {
            let headers = [("x-chat-token", header)];
            let body = json!({ "sessionId": session.session_id, "message": "hi" }).to_string();
            app.request("POST", "/api/chat/message", &headers, body)
                .await
                .assert_error(401, "NO_TOKEN");
            let path = format!("/api/chat/poll/{}", session.session_id);
            app.request("GET", &path, &headers, "")
                .await
                .assert_error(401, "NO_TOKEN");
        }
        assert_eq!(app.table_contents().await, before, "require={require}");
    }
}

#[tokio::test]
async fn a_poll_reads_no_message_for_a_wrong_token_and_always_makes_progress() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let first = app.user_says(&session, "message 0").await;
    for i in 1..130 {
        app.user_says(&session, &format!("message {i}")).await;
    }
    app.agent_replies(&agent, &session.session_id, "Sorry for the wait")
        .await;

    // A wrong token costs one read of the session item, never a message read.
    app.requests.take();
    app.poll(&session.session_id, Some(WRONG_TOKEN), Some(&first))
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    app.poll(&session.session_id, Some(WRONG_TOKEN), None)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    assert_eq!(app.requests.take(), counts(&[("GetItem", 2)]));

    // 130 of the customer's own messages stand before the reply; each poll reads at most 50
    // items, says there is more, and the next one goes on from there.
    let mut polls = 0;
    let reply = loop {
        polls += 1;
        assert!(polls <= 4, "a poll must always make progress");
        let polled = app
            .poll(&session.session_id, Some(&session.token), Some(&first))
            .await;
        let data = polled.data();
        if let Some(message) = data["messages"].as_array().unwrap().first() {
            break message["message"].as_str().unwrap().to_owned();
        }
        assert_eq!(data["hasMore"], true);
    };
    assert_eq!(reply, "Sorry for the wait");
    assert_eq!(polls, 3, "50 + 50 + the rest");
}
