//! The benchmarked requests succeed against the in-memory DynamoDB (or the benchmark would
//! time an error path).

use handler_bench::{app, poll_request, send_request};
use lambda_http::Body;
use serde_json::Value;

fn envelope(body: &Body) -> Value {
    serde_json::from_slice(body.as_ref()).expect("a JSON envelope")
}

#[tokio::test]
async fn the_benchmarked_poll_and_send_succeed() {
    let (app, token) = app();
    let polled = poll_messages::ENDPOINT
        .serve(&app, poll_request(&token))
        .await;
    let polled = envelope(polled.body());
    assert_eq!(polled["success"], true, "{polled}");
    assert_eq!(
        polled["data"]["messages"],
        serde_json::json!([]),
        "nothing new"
    );
    let sent = send_message::ENDPOINT
        .serve(&app, send_request(&token))
        .await;
    let sent = envelope(sent.body());
    assert_eq!(sent["success"], true, "{sent}");
    assert_eq!(sent["data"]["messageId"], "msg_000000000003");
}
