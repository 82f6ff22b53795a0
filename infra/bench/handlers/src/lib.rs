//! The poll and send handlers against a DynamoDB answered in memory: the same `App` every
//! function builds, with an HTTP client that answers each DynamoDB operation with a fixed body
//! at once (no socket, no waiting), so a benchmark measures the handler's own CPU time: routing
//! the request, validation, the SDK's serialization, signing and parsing, the business rules
//! and the envelope.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use chat_core::clock::SystemClock;
use chat_core::config::Config;
use chat_core::ids::ClientToken;
use chat_core::App;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub const SESSION_ID: &str = "chat_1700000000000_benchmark";

/// Answers every DynamoDB request at once with the body kept for its operation.
#[derive(Debug, Clone)]
struct InMemory {
    answers: Arc<HashMap<&'static str, String>>,
}

impl HttpConnector for InMemory {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or_default();
        let body = self
            .answers
            .get(operation)
            .cloned()
            .unwrap_or_else(|| "{}".into());
        let mut response = HttpResponse::new(200.try_into().expect("200"), SdkBody::from(body));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for InMemory {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// An active session as stored, with one user message answered by one support reply.
fn session(token: &ClientToken) -> Value {
    json!({
        "PK": { "S": format!("SESSION#{SESSION_ID}") },
        "SK": { "S": "SESSION" },
        "GSI1PK": { "S": "ACTIVE" },
        "GSI1SK": { "S": format!("2026-11-28T10:00:00.000Z#{SESSION_ID}") },
        "GSI3PK": { "S": "PRESENCE" },
        "GSI3SK": { "S": format!("2099-01-01T00:00:00.000Z#{SESSION_ID}") },
        "entity": { "S": "session" },
        "sessionId": { "S": SESSION_ID },
        "userInfo": { "M": { "name": { "S": "Ann" }, "isGuest": { "BOOL": false } } },
        "status": { "S": "active" },
        "startTime": { "S": "2026-11-28T10:00:00.000Z" },
        "tokenHash": { "S": token.hash().as_str() },
        "tokenPresented": { "BOOL": true },
        "lastSeq": { "N": "2" },
        "supportCount": { "N": "1" },
        "deliveredSupportSeq": { "N": "2" },
        "deliveredSupportCount": { "N": "1" },
        "deliveryFrom": { "N": "0" },
        "lastSeenAt": { "S": "2099-01-01T00:00:00.000Z" },
        "lastMessage": { "M": {
            "messageId": { "S": "msg_000000000002" },
            "message": { "S": "Let me check that for you." },
            "sender": { "S": "admin" },
            "timestamp": { "S": "2026-11-28T10:01:00.000Z" }
        } }
    })
}

/// The app as a function builds it, on a DynamoDB answered in memory, and a client token
/// that opens the stored session.
pub fn app() -> (App, ClientToken) {
    app_with(true)
}

/// [`app`], with or without the interceptor that asks each request for its consumed capacity.
pub fn app_with(capacity_log: bool) -> (App, ClientToken) {
    let token = ClientToken::generate();
    let session = session(&token);
    let answers = HashMap::from([
        ("GetItem", json!({ "Item": session }).to_string()),
        ("TransactWriteItems", "{}".to_owned()),
        ("UpdateItem", "{}".to_owned()),
    ]);
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .http_client(InMemory {
            answers: Arc::new(answers),
        });
    if capacity_log {
        config = config.interceptor(chat_core::consumed_capacity::ConsumedCapacityLog);
    }
    let config = config.build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let app = App::new(client, Config::for_table("bench"), Arc::new(SystemClock));
    (app, token)
}

/// The shipped app's poll with nothing new (the common case: one `GetItem`).
pub fn poll_request(token: &ClientToken) -> Request {
    let mut request = Request::new(Body::Empty);
    request
        .headers_mut()
        .insert("x-chat-token", token.as_str().parse().expect("header"));
    request
        .with_path_parameters(HashMap::from([(
            "sessionId".to_owned(),
            SESSION_ID.to_owned(),
        )]))
        .with_query_string_parameters(HashMap::from([(
            "after".to_owned(),
            "msg_000000000002".to_owned(),
        )]))
}

/// The shipped app's send (a `GetItem` and a `TransactWriteItems`).
pub fn send_request(token: &ClientToken) -> Request {
    let body = json!({ "sessionId": SESSION_ID, "message": "Is my parcel on its way?",
                       "sender": "user", "timestamp": "2026-11-28T10:02:00.000Z" });
    let mut request = Request::new(Body::Text(body.to_string()));
    let headers = request.headers_mut();
    headers.insert("x-chat-token", token.as_str().parse().expect("header"));
    headers.insert("content-type", "application/json".parse().expect("header"));
    request
}
