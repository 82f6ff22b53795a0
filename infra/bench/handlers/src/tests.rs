//! The fixtures answer as the benchmarks assume: a bench of a failing request would measure
//! the error path instead.

use super::*;

fn body_json(body: lambda_http::Body) -> Value {
    serde_json::from_slice(body.as_ref()).expect("envelope is JSON")
}

#[tokio::test]
async fn the_poll_with_news_returns_every_pending_reply() {
    let app = app(poll_dynamo(NEW_REPLIES));
    let (status, body) = serve(&app, &poll_messages::ENDPOINT, &poll_event()).await;
    let body = body_json(body);
    assert_eq!(status, 200, "{body}");
    let messages = body["data"]["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), NEW_REPLIES as usize);
    assert_eq!(body["data"]["hasMore"], false);
}

#[tokio::test]
async fn the_idle_poll_returns_nothing_from_the_session_read_alone() {
    // No Query or UpdateItem answer: the idle poll must not need one.
    let only_get = InMemoryDynamo::new(HashMap::from([(
        "GetItem",
        json!({ "Item": wire_item(&session_item(0)) }).to_string(),
    )]));
    let (status, body) = serve(&app(only_get), &poll_messages::ENDPOINT, &poll_event()).await;
    let body = body_json(body);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["messages"], json!([]));
}

#[tokio::test]
async fn the_send_is_stored() {
    let app = app(send_dynamo());
    let (status, body) = serve(&app, &send_message::ENDPOINT, &send_event()).await;
    let body = body_json(body);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
}
