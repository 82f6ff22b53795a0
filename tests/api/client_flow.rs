//! The client's story, over HTTP on the template's routes.

use chat_tests::{spawn_app, spawn_app_with, WRONG_TOKEN};
use serde_json::json;

#[tokio::test]
async fn polling_with_the_last_seen_id_returns_each_support_message_once() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let token = Some(session.token.as_str());

    let question = app.user_says(&session, "Where is my order?").await;
    let first_reply = app
        .agent_replies(&agent, &session.session_id, "Checking now")
        .await;

    // A cursor may be the client's own message id...
    let polled = app.poll(&session.session_id, token, Some(&question)).await;
    let ids: Vec<_> = polled.data()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].clone())
        .collect();
    assert_eq!(ids, vec![json!(first_reply)]);

    // ...or the last support message seen: nothing new, nothing repeated.
    let polled = app
        .poll(&session.session_id, token, Some(&first_reply))
        .await;
    assert_eq!(polled.data()["messages"], json!([]));

    let second_reply = app
        .agent_replies(&agent, &session.session_id, "It ships today")
        .await;
    app.user_says(&session, "Thanks!").await;
    let polled = app
        .poll(&session.session_id, token, Some(&first_reply))
        .await;
    let messages = polled.data()["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        1,
        "the user's own message is not echoed back"
    );
    assert_eq!(messages[0]["messageId"], second_reply.as_str());
    assert_eq!(polled.data()["hasMore"], false);

    // JavaScript's empty cursors mean "from the start".
    for empty in ["", "undefined", "null"] {
        let polled = app.poll(&session.session_id, token, Some(empty)).await;
        assert_eq!(
            polled.data()["messages"].as_array().unwrap().len(),
            2,
            "after={empty:?}"
        );
    }
}

#[tokio::test]
async fn a_backlog_arrives_in_pages_of_fifty() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    for i in 0..60 {
        app.agent_replies(&agent, &session.session_id, &format!("reply {i}"))
            .await;
    }
    let first = app
        .poll(&session.session_id, Some(&session.token), None)
        .await;
    let page = first.data()["messages"].as_array().unwrap();
    assert_eq!(
        (page.len(), first.data()["hasMore"].clone()),
        (50, json!(true))
    );
    assert_eq!(page[0]["message"], "reply 0");
    let last = page[49]["messageId"].as_str().unwrap().to_owned();

    let second = app
        .poll(&session.session_id, Some(&session.token), Some(&last))
        .await;
    let page = second.data()["messages"].as_array().unwrap();
    assert_eq!(
        (page.len(), second.data()["hasMore"].clone()),
        (10, json!(false))
    );
    assert_eq!(page[0]["message"], "reply 50");
}

#[tokio::test]
async fn a_retried_send_returns_the_first_result_and_stores_one_message() {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    let body = json!({ "sessionId": session.session_id, "message": "Hi", "messageId": "msg_user_1700000000000" });
    let first = app.send_message(Some(&session.token), &body).await;
    let stored = app.table_contents().await;

    let retry = app.send_message(Some(&session.token), &body).await;
    assert_eq!(retry.data(), first.data());
    assert_eq!(
        app.table_contents().await,
        stored,
        "the retry stored nothing"
    );

    // A different key is a different message.
    let other = json!({ "sessionId": session.session_id, "message": "Hi", "messageId": "msg_user_1700000000001" });
    let second = app.send_message(Some(&session.token), &other).await;
    assert_ne!(second.data()["messageId"], first.data()["messageId"]);
}

#[tokio::test]
async fn another_sessions_token_gets_the_same_answer_as_a_missing_session() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let alice = app.start_session("Alice").await;
    let mallory = app.start_session("Mallory").await;
    app.user_says(&alice, "my address is ...").await;
    app.agent_replies(&agent, &alice.session_id, "noted").await;
    let before = app.table_contents().await;

    let stolen = app
        .poll(&alice.session_id, Some(&mallory.token), None)
        .await;
    let missing = app
        .poll("chat_does_not_exist", Some(&mallory.token), None)
        .await;
    stolen.assert_error(404, "SESSION_NOT_FOUND");
    assert_eq!(stolen.body, missing.body, "nothing tells the two apart");

    app.send_message(
        Some(&mallory.token),
        &json!({ "sessionId": alice.session_id, "message": "hi" }),
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");
    let hijack = chat_tests::ClientSession {
        session_id: alice.session_id.clone(),
        token: mallory.token.clone(),
    };
    app.leave(&hijack)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    app.rate(
        Some(&mallory.token),
        &json!({ "sessionId": alice.session_id, "rating": 1 }),
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");
    assert_eq!(app.table_contents().await, before);

    // Once Alice's session has ended and been rated, Mallory still learns nothing.
    app.leave(&alice).await.data();
    app.rate(
        Some(&alice.token),
        &json!({ "sessionId": alice.session_id, "rating": 5 }),
    )
    .await
    .data();
    app.rate(
        Some(&mallory.token),
        &json!({ "sessionId": alice.session_id, "rating": 1 }),
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn a_missing_token_is_refused_unless_ops_switched_the_requirement_off() {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    let body = json!({ "sessionId": session.session_id, "message": "hi" });
    app.send_message(None, &body)
        .await
        .assert_error(401, "NO_TOKEN");
    app.poll(&session.session_id, None, None)
        .await
        .assert_error(401, "NO_TOKEN");
    app.post_json(
        "/api/chat/session/end",
        None,
        &json!({ "sessionId": session.session_id }),
    )
    .await
    .assert_error(401, "NO_TOKEN");
    app.rate(
        None,
        &json!({ "sessionId": session.session_id, "rating": 5 }),
    )
    .await
    .assert_error(401, "NO_TOKEN");

    // During the app's migration old builds send no header: accepted, but a wrong one is not.
    let lenient = spawn_app_with(|config| config.require_client_token = false).await;
    let session = lenient.start_session("Old app build").await;
    let body = json!({ "sessionId": session.session_id, "message": "hi" });
    assert_eq!(lenient.send_message(None, &body).await.status, 200);
    assert_eq!(
        lenient.poll(&session.session_id, None, None).await.status,
        200
    );
    lenient
        .send_message(Some(WRONG_TOKEN), &body)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
    lenient
        .poll(&session.session_id, Some(WRONG_TOKEN), None)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn an_existing_session_id_is_refused_without_revealing_its_credentials() {
    let app = spawn_app().await;
    let body =
        json!({ "sessionId": "chat_1700000000000_abc123xyz", "userInfo": { "name": "Ann" } });
    let original = app.create_session(&body).await;
    let token = original.data()["clientToken"].as_str().unwrap().to_owned();
    let before = app.table_contents().await;

    let again = app
        .create_session(
            &json!({ "sessionId": "chat_1700000000000_abc123xyz", "userInfo": { "name": "Eve" } }),
        )
        .await;
    again.assert_error(409, "SESSION_EXISTS");
    assert!(!again.body.to_string().contains(&token));
    assert_eq!(app.table_contents().await, before);
    assert_eq!(
        app.poll("chat_1700000000000_abc123xyz", Some(&token), None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_ended_session_takes_no_more_messages_and_a_rating_needs_an_end() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    app.rate(
        Some(&session.token),
        &json!({ "sessionId": session.session_id, "rating": 4 }),
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");

    app.leave(&session).await.data();
    let before = app.table_contents().await;
    app.send_message(
        Some(&session.token),
        &json!({ "sessionId": session.session_id, "message": "still there?" }),
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");
    // Leaving it now answers how it ended (a retried leave is not an error) and changes nothing.
    let left = app.leave(&session).await;
    assert_eq!(left.data()["status"], "ended");
    app.admin_post(
        "/api/admin/chat/message",
        &agent.token,
        &json!({ "sessionId": session.session_id, "message": "hello?", "sender": "admin" }),
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");
    assert_eq!(app.table_contents().await, before);
}

#[tokio::test]
async fn health_says_the_database_answers() {
    let app = spawn_app().await;
    let health = app.get("/api/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.data()["dynamodb"], "ok");
    assert_eq!(health.data()["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn a_client_who_leaves_sees_the_end_and_rates_once() {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    app.user_says(&session, "Never mind, found it").await;
    let left = app.leave(&session).await;
    assert_eq!(left.data()["status"], "ended");
    assert_eq!(left.data()["sessionId"], session.session_id.as_str());
    assert!(left.data()["duration"].as_i64().unwrap() >= 0);
    // The answer was lost, the app leaves again: the same answer, nothing changes.
    let before = app.table_contents().await;
    assert_eq!(app.leave(&session).await.data(), left.data());
    assert_eq!(app.table_contents().await, before);
    let polled = app
        .poll(&session.session_id, Some(&session.token), None)
        .await;
    assert_eq!(
        (
            polled.data()["sessionEnded"].clone(),
            polled.data()["sessionStatus"].clone()
        ),
        (json!(true), json!("ended"))
    );
    let rating =
        json!({ "sessionId": session.session_id, "rating": 5, "feedback": "Great service!" });
    let rated = app.rate(Some(&session.token), &rating).await;
    assert_eq!(
        (
            rated.data()["rating"].clone(),
            rated.data()["feedback"].clone()
        ),
        (json!(5), json!("Great service!"))
    );
    app.rate(Some(&session.token), &rating)
        .await
        .assert_error(400, "RATING_EXISTS");
}
