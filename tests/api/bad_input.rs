//! Every bad input gets its status and code in the envelope, and leaves the table unchanged.

use bytes::Bytes;
use chat_tests::spawn_app;
use serde_json::{json, Value};

/// (method, path, body, expected status, expected code)
type Case = (&'static str, String, Bytes, u16, &'static str);

fn json_body(value: Value) -> Bytes {
    Bytes::from(value.to_string())
}

#[tokio::test]
async fn bad_requests_are_refused_in_the_envelope_and_store_nothing() {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    app.user_says(&session, "hello").await;
    let sid = session.session_id.clone();
    let message = |extra: Value| {
        let mut body = json!({ "sessionId": sid, "message": "hi" });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json_body(body)
    };
    let rating = |value: Value| json_body(json!({ "sessionId": sid, "rating": value }));
    let session_path = "/api/chat/session".to_owned();
    let message_path = "/api/chat/message".to_owned();
    let rating_path = "/api/chat/rating".to_owned();
    let poll = |query: &str| format!("/api/chat/poll/{sid}{query}");

    let cases: Vec<Case> = vec![
        // Starting a session.
        (
            "POST",
            session_path.clone(),
            json_body(json!({})),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": "Ann" })),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": null })),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": { "name": ["Ann"] } })),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": {}, "sessionId": "not valid!" })),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": {}, "sessionId": 123456789 })),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": {}, "status": "ended_by_admin" })),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": {}, "startTime": "soon" })),
            400,
            "INVALID_SESSION_DATA",
        ),
        (
            "POST",
            session_path.clone(),
            Bytes::from_static(b"{\"userInfo\": {"),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "POST",
            session_path.clone(),
            Bytes::from_static(b"\xff\xfe{\"userInfo\":{}}"),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "POST",
            session_path.clone(),
            Bytes::from_static(b"[1, 2]"),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "POST",
            session_path.clone(),
            Bytes::new(),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "POST",
            session_path.clone(),
            json_body(json!({ "userInfo": { "name": "x".repeat(100_000) } })),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            "POST",
            session_path.clone(),
            Bytes::from(vec![b' '; 11 * 1024 * 1024]),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        // Sending a message.
        (
            "POST",
            message_path.clone(),
            message(json!({ "sender": "admin" })),
            400,
            "INVALID_SENDER",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "sender": "support" })),
            400,
            "INVALID_SENDER",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "message": "" })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "message": " \n\t " })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "message": "x".repeat(5_001) })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "message": "nul \u{0} byte" })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "message": "bell \u{7}" })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "message": 42 })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "message": null })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "messageId": "has spaces" })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "messageId": 7 })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            message(json!({ "timestamp": "yesterday" })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            json_body(json!({ "message": "hi" })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            json_body(json!({ "sessionId": ["x"], "message": "hi" })),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "POST",
            message_path.clone(),
            json_body(json!({ "sessionId": "chat_unknown_session", "message": "hi" })),
            404,
            "SESSION_NOT_FOUND",
        ),
        (
            "POST",
            message_path.clone(),
            Bytes::from_static(b"not json"),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "POST",
            message_path.clone(),
            Bytes::from_static(b"\"a string\""),
            400,
            "VALIDATION_ERROR",
        ),
        // Polling.
        (
            "GET",
            poll("?after=msg_user_1700000000000"),
            Bytes::new(),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "GET",
            poll("?after=12"),
            Bytes::new(),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "GET",
            "/api/chat/poll/bad%20id".to_owned(),
            Bytes::new(),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "GET",
            "/api/chat/poll/chat_unknown_session".to_owned(),
            Bytes::new(),
            404,
            "SESSION_NOT_FOUND",
        ),
        // Rating (the session is still active, but the body is checked first).
        (
            "POST",
            rating_path.clone(),
            rating(json!(0)),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            rating(json!(6)),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            rating(json!(3.5)),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            rating(json!("5")),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            rating(json!(null)),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            json_body(json!({ "sessionId": sid, "rating": 5, "feedback": "x".repeat(2_001) })),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            json_body(json!({ "sessionId": sid, "rating": 5, "feedback": 5 })),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            json_body(json!({ "rating": 5 })),
            400,
            "INVALID_RATING_DATA",
        ),
        (
            "POST",
            rating_path.clone(),
            rating(json!(5)),
            404,
            "SESSION_NOT_FOUND",
        ),
        // Leaving.
        (
            "POST",
            "/api/chat/session/end".to_owned(),
            json_body(json!({})),
            400,
            "INVALID_SESSION_DATA",
        ),
        // Routes API Gateway itself refuses.
        ("GET", session_path.clone(), Bytes::new(), 404, "NOT_FOUND"),
        (
            "DELETE",
            message_path.clone(),
            Bytes::new(),
            404,
            "NOT_FOUND",
        ),
        (
            "GET",
            "/api/chat/poll/".to_owned(),
            Bytes::new(),
            404,
            "NOT_FOUND",
        ),
    ];

    let before = app.table_contents().await;
    assert!(!before.is_empty());
    let headers = [("x-chat-token", session.token.as_str())];
    for (method, path, body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        let response = app.request(method, &path, &headers, body).await;
        assert_eq!(
            (response.status, response.error_code()),
            (status, code),
            "{method} {path} {shown}: {}",
            response.body
        );
        assert!(response.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(
        app.table_contents().await,
        before,
        "a refused request changed the table"
    );
}

#[tokio::test]
async fn the_longest_allowed_message_is_accepted_whole() {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    let text = "é".repeat(5_000);
    let sent = app
        .send_message(
            Some(&session.token),
            &json!({ "sessionId": session.session_id, "message": format!("  {text}\n") }),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let items = app.table_contents().await;
    let stored = items
        .iter()
        .find(|i| i["SK"].as_str().unwrap().starts_with("MSG#"))
        .unwrap();
    assert_eq!(stored["message"], text.as_str(), "trimmed, otherwise whole");
}
