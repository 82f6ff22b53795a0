//! The support agent's side, and the whole flow of a chat (docs/contract.md §C2), over HTTP on
//! the template's routes.

use chat_tests::spawn_app;
use serde_json::{json, Value};

const LIST_PATH: &str = "/api/admin/chat/active-sessions";

fn actions(log: &Value) -> Vec<(String, String)> {
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["adminId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_seed_integration_test_step_for_step() {
    let app = spawn_app().await;
    let admin = app.sign_up_agent("Test Admin").await;

    // 1. Client starts session
    let session = app
        .create_session(&json!({
            "sessionId": "integration-test-session",
            "userInfo": { "userId": "test-user", "name": "Test User" },
            "startTime": "2026-11-26T10:00:00.000Z",
            "status": "active"
        }))
        .await;
    assert_eq!(session.status, 200);
    assert_eq!(session.body["success"], true);
    let token = session.data()["clientToken"].as_str().unwrap().to_owned();

    // 2. Client sends message
    let message = app
        .send_message(
            Some(&token),
            &json!({
                "sessionId": "integration-test-session",
                "message": "Hello, I need help",
                "sender": "user",
                "timestamp": "2026-11-26T10:00:01.000Z",
                "messageId": "test-msg-1"
            }),
        )
        .await;
    assert_eq!(message.status, 200);

    // 3. Admin responds
    let reply = app
        .admin_post(
            "/api/admin/chat/message",
            &admin.token,
            &json!({
                "sessionId": "integration-test-session",
                "message": "Hello! How can I help you?",
                "sender": "admin",
                "timestamp": "2026-11-26T10:00:02.000Z",
                "messageId": "test-msg-2"
            }),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["message"], "Admin message sent successfully");

    // 4. Client polls for messages: exactly the one admin message
    let poll = app
        .poll("integration-test-session", Some(&token), None)
        .await;
    assert_eq!(poll.status, 200);
    assert_eq!(poll.data()["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        poll.data()["messages"][0]["message"],
        "Hello! How can I help you?"
    );

    // 5. Admin ends session (the body's adminId, endTime and status are not trusted)
    let end = app
        .admin_post(
            "/api/admin/chat/session/end",
            &admin.token,
            &json!({
                "sessionId": "integration-test-session",
                "endTime": "2020-01-01T00:00:00.000Z",
                "status": "ended_by_admin",
                "adminId": "test-admin"
            }),
        )
        .await;
    assert_eq!(end.status, 200);
    assert_eq!(end.data()["status"], "ended_by_admin");
    assert!(end.data()["endTime"].as_str().unwrap() > "2026");
    assert!(end.data()["duration"].as_i64().unwrap() >= 0);
    let poll = app
        .poll("integration-test-session", Some(&token), None)
        .await;
    assert_eq!(
        (
            poll.data()["sessionEnded"].clone(),
            poll.data()["sessionStatus"].clone()
        ),
        (json!(true), json!("ended_by_admin"))
    );

    // 6. Client submits rating, once
    let rating = json!({ "sessionId": "integration-test-session", "rating": 5, "feedback": "Great service!", "timestamp": "2026-11-26T10:05:00.000Z" });
    assert_eq!(app.rate(Some(&token), &rating).await.status, 200);
    app.rate(Some(&token), &rating)
        .await
        .assert_error(400, "RATING_EXISTS");

    // The audit trail names the agent the token belongs to.
    let log = app
        .admin_get(
            "/api/admin/activity?sessionId=integration-test-session",
            &admin.token,
        )
        .await;
    assert_eq!(
        actions(log.data()),
        vec![
            ("ENDED_SESSION".to_owned(), admin.admin_id.clone()),
            ("SENT_MESSAGE".to_owned(), admin.admin_id.clone())
        ]
    );
    let transcript = app.transcript("integration-test-session").await;
    assert_eq!(
        transcript.session.unwrap().ended_by.map(String::from),
        Some(admin.admin_id.clone())
    );
}

#[tokio::test]
async fn agents_see_active_sessions_newest_first_with_who_is_waiting() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let first = app.start_session("First").await;
    let second = app.start_session("Second").await;
    let third = app.start_session("Third").await;
    app.user_says(&first, "Hello?").await;
    app.user_says(&first, "Anyone?").await;
    app.user_says(&second, "Quick question").await;
    app.agent_replies(&agent, &second.session_id, "Sure").await;
    app.leave(&third).await.data();

    app.requests.take();
    let list = app
        .admin_get("/api/admin/chat/active-sessions", &agent.token)
        .await;
    assert_eq!(
        app.requests.take(),
        [("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)].into(),
        "one Query for the page's keys, one BatchGetItem for its sessions and the active \
         count, admin check cached"
    );
    let data = list.data();
    assert_eq!(data["totalActive"], 2);
    let sessions = data["sessions"].as_array().unwrap();
    let ids: Vec<&str> = sessions
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [second.session_id.as_str(), first.session_id.as_str()],
        "newest first, ended ones gone"
    );
    let (second_view, first_view) = (&sessions[0], &sessions[1]);
    assert_eq!(first_view["userInfo"]["name"], "First");
    assert_eq!(first_view["messageCount"], 2);
    assert_eq!(first_view["lastMessage"]["message"], "Anyone?");
    assert_eq!(first_view["lastMessage"]["sender"], "user");
    let first_message_time =
        chat_core::clock::iso8601(app.transcript(&first.session_id).await.messages[0].timestamp);
    assert_eq!(
        first_view["waitingSince"],
        first_message_time.as_str(),
        "waiting since the first unanswered message"
    );
    assert_eq!(second_view["waitingSince"], Value::Null, "answered");
    assert_eq!(second_view["lastMessage"]["sender"], "admin");
    assert_eq!(data["nextCursor"], Value::Null);

    // Pages.
    let page = app
        .admin_get("/api/admin/chat/active-sessions?limit=1", &agent.token)
        .await;
    assert_eq!(page.data()["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(page.data()["totalActive"], 2);
    let cursor = page.data()["nextCursor"].as_str().unwrap().to_owned();
    let rest = app
        .admin_get(
            &format!("/api/admin/chat/active-sessions?limit=1&cursor={cursor}"),
            &agent.token,
        )
        .await;
    assert_eq!(
        rest.data()["sessions"][0]["sessionId"],
        first.session_id.as_str()
    );
    app.admin_get("/api/admin/chat/active-sessions?limit=0", &agent.token)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.admin_get(
        "/api/admin/chat/active-sessions?cursor=forged",
        &agent.token,
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn agents_read_whole_transcripts_and_opening_one_is_logged_once() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let question = app.user_says(&session, "My parcel is late").await;
    let answer = app
        .agent_replies(&agent, &session.session_id, "Let me check")
        .await;

    app.requests.take();
    let opened = app
        .admin_get(
            &format!("/api/admin/chat/messages/{}", session.session_id),
            &agent.token,
        )
        .await;
    // The log entry, and the agents' read marker moving to the customer's message.
    assert_eq!(
        app.requests.take(),
        [
            ("PutItem".to_owned(), 1),
            ("Query".to_owned(), 1),
            ("UpdateItem".to_owned(), 1)
        ]
        .into()
    );
    let data = opened.data();
    let messages = data["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (
            messages[0]["messageId"].as_str(),
            messages[0]["sender"].as_str()
        ),
        (Some(question.as_str()), Some("user"))
    );
    assert_eq!(messages[1]["adminId"], agent.admin_id.as_str());
    assert_eq!(data["session"]["userInfo"]["name"], "Ann");
    assert_eq!(data["session"]["status"], "active");

    // The dashboard polls with the last id it has: only what is new, and no log entry.
    let follow_up = app.user_says(&session, "Thanks").await;
    let polled = app
        .admin_get(
            &format!(
                "/api/admin/chat/messages/{}?after={answer}",
                session.session_id
            ),
            &agent.token,
        )
        .await;
    assert_eq!(
        app.requests.take(),
        [
            ("GetItem".to_owned(), 1),
            ("Query".to_owned(), 1),
            ("TransactWriteItems".to_owned(), 1),
            ("UpdateItem".to_owned(), 1)
        ]
        .into(),
        "the user's send (2) and the dashboard's poll (1 Query, no log entry, the read \
         marker moving to the new message)"
    );
    let messages = polled.data()["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["messageId"], follow_up.as_str());

    // Ended and rated sessions stay readable, with the rating.
    app.leave(&session).await.data();
    app.rate(
        Some(&session.token),
        &json!({ "sessionId": session.session_id, "rating": 4, "feedback": "Quick" }),
    )
    .await
    .data();
    let ended = app
        .admin_get(
            &format!("/api/admin/chat/messages/{}", session.session_id),
            &agent.token,
        )
        .await;
    let details = &ended.data()["session"];
    assert_eq!(
        (
            details["status"].as_str(),
            details["rating"].as_i64(),
            details["feedback"].as_str()
        ),
        (Some("ended"), Some(4), Some("Quick"))
    );
    assert!(details["endTime"].is_string());

    let log = app
        .admin_get(
            &format!("/api/admin/activity?sessionId={}", session.session_id),
            &agent.token,
        )
        .await;
    let logged: Vec<String> = actions(log.data()).into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        logged,
        ["VIEWED_SESSION", "VIEWED_SESSION", "SENT_MESSAGE"],
        "newest first; polls not logged"
    );
    app.admin_get(
        "/api/admin/chat/messages/chat_no_such_session",
        &agent.token,
    )
    .await
    .assert_error(404, "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn admin_writes_to_ended_or_unknown_sessions_change_nothing() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    app.agent_replies(&agent, &session.session_id, "Hi Ann")
        .await;
    let end = |id: &str| json!({ "sessionId": id });
    app.admin_post(
        "/api/admin/chat/session/end",
        &agent.token,
        &end(&session.session_id),
    )
    .await
    .data();
    let before = app.table_contents().await;

    let reply = |id: &str| json!({ "sessionId": id, "message": "hello?", "sender": "admin" });
    let refused = [
        (
            "/api/admin/chat/message",
            reply(&session.session_id),
            404,
            "SESSION_NOT_FOUND",
        ),
        (
            "/api/admin/chat/message",
            reply("chat_unknown_session"),
            404,
            "SESSION_NOT_FOUND",
        ),
        (
            "/api/admin/chat/session/end",
            end(&session.session_id),
            404,
            "SESSION_NOT_FOUND",
        ),
        (
            "/api/admin/chat/session/end",
            end("chat_unknown_session"),
            404,
            "SESSION_NOT_FOUND",
        ),
        (
            "/api/admin/chat/session/end",
            json!({}),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "/api/admin/chat/message",
            json!({ "sessionId": session.session_id, "message": "hi", "sender": "user" }),
            400,
            "INVALID_SENDER",
        ),
        (
            "/api/admin/chat/message",
            json!({ "sessionId": session.session_id, "message": "hi" }),
            400,
            "INVALID_SENDER",
        ),
        (
            "/api/admin/chat/message",
            json!({ "sessionId": session.session_id, "message": "", "sender": "admin" }),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "/api/admin/auth/login",
            json!({ "email": 5 }),
            400,
            "VALIDATION_ERROR",
        ),
    ];
    for (path, body, status, code) in refused {
        app.admin_post(path, &agent.token, &body)
            .await
            .assert_error(status, code);
    }
    app.admin_get("/api/admin/activity?limit=500", &agent.token)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.admin_get("/api/admin/activity?sessionId=bad%20id", &agent.token)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        app.table_contents().await,
        before,
        "a refused admin request changed the table"
    );

    app.requests.take();
    let log = app
        .admin_get(
            &format!("/api/admin/activity?adminId={}", agent.admin_id),
            &agent.token,
        )
        .await;
    assert_eq!(
        app.requests.take(),
        [("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)].into(),
        "one agent's log: its keys from the keys-only index, then the entries"
    );
    let logged: Vec<String> = actions(log.data()).into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        logged,
        ["ENDED_SESSION", "SENT_MESSAGE"],
        "exactly the actions that succeeded"
    );
    let everything = app.admin_get("/api/admin/activity", &agent.token).await;
    assert_eq!(actions(everything.data()).len(), 2);
}

#[tokio::test]
async fn admin_sends_and_ends_cost_one_read_and_one_transaction() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    // The admin check reads the agent once, then trusts that read for a minute.
    app.admin_get(LIST_PATH, &agent.token).await.data();
    app.requests.take();
    let keyed = json!({ "sessionId": session.session_id, "message": "hi", "sender": "admin", "messageId": "msg_admin_1" });
    let first = app
        .admin_post("/api/admin/chat/message", &agent.token, &keyed)
        .await;
    assert_eq!(
        app.requests.take(),
        [
            ("BatchGetItem".to_owned(), 1),
            ("TransactWriteItems".to_owned(), 1)
        ]
        .into()
    );
    let retry = app
        .admin_post("/api/admin/chat/message", &agent.token, &keyed)
        .await;
    assert_eq!(
        retry.data(),
        first.data(),
        "a retried reply returns the first result"
    );
    assert_eq!(app.requests.take(), [("BatchGetItem".to_owned(), 1)].into());
    app.admin_post(
        "/api/admin/chat/session/end",
        &agent.token,
        &json!({ "sessionId": session.session_id }),
    )
    .await
    .data();
    assert_eq!(
        app.requests.take(),
        [
            ("GetItem".to_owned(), 1),
            ("TransactWriteItems".to_owned(), 1)
        ]
        .into()
    );
    let stored = app.transcript(&session.session_id).await;
    assert_eq!(stored.messages.len(), 1);
}
