//! The cost targets, counted in DynamoDB requests (never timed).

use chat_tests::spawn_app;
use serde_json::json;
use std::collections::BTreeMap;

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

#[tokio::test]
async fn each_client_endpoint_makes_the_promised_dynamodb_requests() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    app.requests.take();

    let session = app.start_session("Ann").await;
    assert_eq!(
        app.requests.take(),
        counts(&[("TransactWriteItems", 1)]),
        "create = 1 request (the session and the active-session count in one transaction)"
    );

    let keyed = json!({ "sessionId": session.session_id, "message": "hi", "messageId": "k-1" });
    app.send_message(Some(&session.token), &keyed).await.data();
    assert_eq!(
        app.requests.take(),
        counts(&[("BatchGetItem", 1), ("TransactWriteItems", 1)]),
        "send with an idempotency key = 2 requests"
    );
    app.send_message(
        Some(&session.token),
        &json!({ "sessionId": session.session_id, "message": "again" }),
    )
    .await
    .data();
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1), ("TransactWriteItems", 1)]),
        "send = 2 requests"
    );
    app.send_message(Some(&session.token), &keyed).await.data();
    assert_eq!(
        app.requests.take(),
        counts(&[("BatchGetItem", 1)]),
        "a retried send = 1 request"
    );

    let last_own = app.user_says(&session, "anyone there?").await;
    app.requests.take();
    let polled = app
        .poll(&session.session_id, Some(&session.token), Some(&last_own))
        .await;
    assert!(polled.data()["messages"].as_array().unwrap().is_empty());
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1)]),
        "an empty poll (the common case) = 1 read of the session, no message read"
    );

    let reply = app
        .agent_replies(&agent, &session.session_id, "hello")
        .await;
    app.requests.take();
    let polled = app
        .poll(&session.session_id, Some(&session.token), Some(&last_own))
        .await;
    assert_eq!(polled.data()["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1), ("Query", 1), ("UpdateItem", 1)]),
        "a poll that returns replies = session + 1 bounded Query + 1 write recording how far"
    );
    let polled = app
        .poll(&session.session_id, Some(&session.token), Some(&reply))
        .await;
    assert!(polled.data()["messages"].as_array().unwrap().is_empty());
    assert_eq!(app.requests.take(), counts(&[("GetItem", 1)]));

    // The shipped app's cursor jumps past a reply it never polled: the same, from the marker.
    app.agent_replies(&agent, &session.session_id, "still there?")
        .await;
    let own = app.user_says(&session, "yes!").await;
    app.requests.take();
    let polled = app
        .poll(&session.session_id, Some(&session.token), Some(&own))
        .await;
    assert_eq!(polled.data()["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1), ("Query", 1), ("UpdateItem", 1)]),
        "catch-up poll = the same 3 requests"
    );
    let caught_up = polled.data()["messages"][0]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.poll(&session.session_id, Some(&session.token), Some(&caught_up))
        .await
        .data();
    assert_eq!(app.requests.take(), counts(&[("GetItem", 1)]));
    let own = app.user_says(&session, "thanks").await;
    app.requests.take();
    app.poll(&session.session_id, Some(&session.token), Some(&own))
        .await
        .data();
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1)]),
        "after the customer's own message, nothing undelivered: 1 request"
    );

    // The shipped app's race: the customer sends; before the send's answer arrives, a reply
    // commits and a poll with the app's previous cursor returns it; then the late send answer
    // moves the cursor back to the customer's own message. Every poll from there is still one
    // request.
    let previous = own;
    let own = app.user_says(&session, "one more thing").await;
    let reply = app
        .agent_replies(&agent, &session.session_id, "go ahead")
        .await;
    let polled = app
        .poll(&session.session_id, Some(&session.token), Some(&previous))
        .await;
    assert_eq!(polled.data()["messages"][0]["messageId"], reply.as_str());
    app.requests.take();
    let polled = app
        .poll(&session.session_id, Some(&session.token), Some(&own))
        .await;
    assert!(polled.data()["messages"].as_array().unwrap().is_empty());
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1)]),
        "the customer's newest message as the cursor, behind the marker: still 1 request"
    );

    app.leave(&session).await.data();
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1), ("TransactWriteItems", 1)]),
        "leave = 2 requests (the session for its answer, then the end with the count)"
    );

    app.rate(
        Some(&session.token),
        &json!({ "sessionId": session.session_id, "rating": 5 }),
    )
    .await
    .data();
    assert_eq!(
        app.requests.take(),
        counts(&[("TransactWriteItems", 1)]),
        "rating = 1 request (the rating and its daily count in one transaction)"
    );

    // Refusals that need no data cost nothing.
    app.poll(&session.session_id, None, None)
        .await
        .assert_error(401, "NO_TOKEN");
    app.rate(
        Some(&session.token),
        &json!({ "sessionId": session.session_id, "rating": 9 }),
    )
    .await
    .assert_error(400, "INVALID_RATING_DATA");
    assert_eq!(app.requests.take(), counts(&[]));
}

/// Typing and read state ride on the session item the poll reads anyway: still 1 request.
#[tokio::test]
async fn the_poll_carries_typing_and_read_state_in_its_one_request() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let own = app.user_says(&session, "hello").await;
    app.admin_get(
        &format!("/api/admin/chat/messages/{}", session.session_id),
        &agent.token,
    )
    .await
    .data();
    app.admin_post(
        "/api/admin/chat/typing",
        &agent.token,
        &json!({ "sessionId": session.session_id }),
    )
    .await
    .data();
    app.requests.take();
    let polled = app
        .poll(&session.session_id, Some(&session.token), Some(&own))
        .await;
    assert_eq!(
        (
            &polled.data()["supportTyping"],
            &polled.data()["supportReadUpTo"]
        ),
        (&json!(true), &json!(own))
    );
    assert_eq!(
        app.requests.take(),
        counts(&[("GetItem", 1)]),
        "a poll with typing and read state = 1 read of the session"
    );
}
