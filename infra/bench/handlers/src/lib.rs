//! What the handler benchmarks (`benches/handlers.rs`) run: the real handlers, from the API
//! Gateway event to the envelope, with a DynamoDB client whose HTTP layer is answered in
//! memory. So the time measured is our CPU work per request (event parsing, request signing,
//! SDK serialization, item decoding, the envelope), none of it waiting on the network.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use chat_core::ids::{ClientToken, MessageId, SessionId};
use chat_core::model::{Sender, UserInfo};
use chat_core::store::items::{MessageItem, SessionItem};
use chat_core::{App, Config, SystemClock};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub const TABLE: &str = "bench";
/// A token as `ClientToken::generate` makes them (43 URL-safe characters).
pub const TOKEN: &str = "benchbenchbenchbenchbenchbenchbenchbench123";
pub const SESSION: &str = "chat_1700000000000_benchbench";
/// Support replies the poll with news returns (a typical burst: an agent's few lines).
pub const NEW_REPLIES: u64 = 3;

/// Answers each DynamoDB operation (by its `X-Amz-Target`) with one canned JSON body.
#[derive(Debug, Clone)]
pub struct InMemoryDynamo {
    answers: Arc<HashMap<&'static str, String>>,
}

impl InMemoryDynamo {
    pub fn new(answers: HashMap<&'static str, String>) -> Self {
        Self {
            answers: Arc::new(answers),
        }
    }
}

impl HttpConnector for InMemoryDynamo {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .unwrap_or_default();
        let response = match self.answers.get(operation) {
            Some(body) => Response::new(StatusCode::try_from(200).unwrap(), body.clone().into()),
            // An operation the fixture did not expect: a client error the handler reports.
            None => Response::new(
                StatusCode::try_from(400).unwrap(),
                SdkBody::from(format!(
                    r#"{{"__type":"com.amazon.coral.validate#ValidationException","message":"unexpected {operation}"}}"#
                )),
            ),
        };
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for InMemoryDynamo {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// The App a function builds at cold start (same limits, static credentials as on Lambda),
/// over the in-memory DynamoDB.
pub fn app(dynamo: InMemoryDynamo) -> App {
    App::new(
        client(dynamo),
        Config::for_table(TABLE),
        Arc::new(SystemClock),
    )
}

/// The DynamoDB client as [`app`] builds it: every function's settings
/// ([`chat_core::app::dynamodb_config`]).
pub fn client(dynamo: InMemoryDynamo) -> aws_sdk_dynamodb::Client {
    let config = chat_core::app::dynamodb_config(bare_config(dynamo)).build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Region, static credentials and the in-memory DynamoDB, none of the functions' settings:
/// for benchmarks that price one setting by leaving it out.
pub fn bare_config(dynamo: InMemoryDynamo) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .http_client(dynamo)
}

pub fn session_id() -> SessionId {
    SessionId::parse(SESSION).expect("valid session id")
}

/// An active session, its client's token presented, seen just now (so no presence write is
/// due); `replies` support messages after the last one polls delivered.
pub fn session_item(replies: u64) -> SessionItem {
    let token = ClientToken::from_header(TOKEN).expect("valid token");
    let user = UserInfo {
        user_id: Some("user-42".into()),
        name: Some("Ada Lovelace".into()),
        email: Some("ada@example.com".into()),
        is_guest: Some(false),
        guest_session_id: None,
    };
    let mut session = SessionItem::open(&session_id(), user, &token.hash(), chrono::Utc::now());
    session.token_presented = true;
    // Four earlier exchanges, all delivered; then `replies` new support messages.
    session.last_seq = 8 + replies;
    session.support_count = 4 + replies;
    session.delivered_support_seq = 8;
    session.delivered_support_count = 4;
    session
}

/// The support messages after the delivered ones (numbers 9, 10, ...).
pub fn replies(count: u64) -> Vec<MessageItem> {
    (9..9 + count)
        .map(|seq| {
            MessageItem::new(
                &session_id(),
                MessageId::from_seq(seq),
                Sender::Admin,
                format!("Thanks for waiting, this is reply number {seq} from support."),
                chrono::Utc::now(),
                Some("adm_0123456789abcdef0123456789abcdef".into()),
                1_900_000_000,
            )
        })
        .collect()
}

/// An item as DynamoDB's JSON wire format carries it.
pub fn wire_item(item: &impl serde::Serialize) -> Value {
    let attributes: HashMap<String, AttributeValue> =
        serde_dynamo::to_item(item).expect("item serializes");
    Value::Object(
        attributes
            .iter()
            .map(|(name, value)| (name.clone(), wire_value(value)))
            .collect(),
    )
}

fn wire_value(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::M(map) => {
            json!({ "M": map.iter().map(|(k, v)| (k.clone(), wire_value(v))).collect::<Map<_, _>>() })
        }
        AttributeValue::L(list) => json!({ "L": list.iter().map(wire_value).collect::<Vec<_>>() }),
        AttributeValue::Ss(set) => json!({ "SS": set }),
        AttributeValue::Ns(set) => json!({ "NS": set }),
        other => panic!("no wire form for {other:?} in the fixtures"),
    }
}

/// DynamoDB for the polls: GetItem returns the session with `replies` undelivered support
/// messages, Query returns them, UpdateItem (the delivery marker) succeeds.
pub fn poll_dynamo(replies_pending: u64) -> InMemoryDynamo {
    let messages: Vec<Value> = replies(replies_pending).iter().map(wire_item).collect();
    let count = messages.len();
    InMemoryDynamo::new(HashMap::from([
        (
            "GetItem",
            json!({ "Item": wire_item(&session_item(replies_pending)) }).to_string(),
        ),
        (
            "Query",
            json!({ "Items": messages, "Count": count, "ScannedCount": count }).to_string(),
        ),
        ("UpdateItem", "{}".to_owned()),
    ]))
}

/// DynamoDB for the client send (no earlier messages pending): GetItem / BatchGetItem return
/// the session, the send transaction succeeds.
pub fn send_dynamo() -> InMemoryDynamo {
    let session = wire_item(&session_item(0));
    InMemoryDynamo::new(HashMap::from([
        ("GetItem", json!({ "Item": session }).to_string()),
        (
            "BatchGetItem",
            json!({ "Responses": { TABLE: [session] }, "UnprocessedKeys": {} }).to_string(),
        ),
        ("TransactWriteItems", "{}".to_owned()),
    ]))
}

/// The API Gateway (REST) event of `GET /api/chat/poll/{sessionId}?after=msg_000000000008`, as Lambda
/// delivers it.
pub fn poll_event() -> String {
    event(
        "GET",
        "/api/chat/poll/{sessionId}",
        &format!("/api/chat/poll/{SESSION}"),
        json!({ "after": "msg_000000000008" }),
        json!({ "sessionId": SESSION }),
        Value::Null,
    )
}

/// `POST /api/chat/message` with a one-line message and the app's idempotency key.
pub fn send_event() -> String {
    let body = json!({
        "sessionId": SESSION,
        "message": "Hello, my order #1234 has not arrived yet. Can you help?",
        "messageId": "msg_1700000000123_k3j4h5",
        "timestamp": "2026-11-28T22:00:00.000Z",
    });
    event(
        "POST",
        "/api/chat/message",
        "/api/chat/message",
        Value::Null,
        Value::Null,
        Value::String(body.to_string()),
    )
}

fn event(
    method: &str,
    resource: &str,
    path: &str,
    query: Value,
    path_params: Value,
    body: Value,
) -> String {
    let multi_query = match &query {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), json!([v]))).collect())
        }
        _ => Value::Null,
    };
    json!({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {
            "content-type": "application/json",
            "user-agent": "SupportChat/3.2 (iPhone; iOS 17.1)",
            "x-chat-token": TOKEN,
            "x-forwarded-for": "203.0.113.9",
        },
        "multiValueHeaders": {
            "content-type": ["application/json"],
            "user-agent": ["SupportChat/3.2 (iPhone; iOS 17.1)"],
            "x-chat-token": [TOKEN],
            "x-forwarded-for": ["203.0.113.9"],
        },
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params,
        "stageVariables": null,
        "requestContext": {
            "accountId": "000000000000", "apiId": "bench", "resourcePath": resource,
            "httpMethod": method, "path": format!("/v1{path}"), "stage": "v1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": { "sourceIp": "203.0.113.9" },
        },
        "body": body,
        "isBase64Encoded": false,
    })
    .to_string()
}

/// One request through an endpoint, as the function binary answers it: the event parsed into
/// a request, the handler, the envelope. Returns the status and the body.
pub async fn serve(
    app: &App,
    endpoint: &chat_core::Endpoint,
    event: &str,
) -> (u16, lambda_http::Body) {
    let request = lambda_http::request::from_str(event).expect("event parses");
    let response = endpoint.serve(app, request).await;
    (response.status().as_u16(), response.into_body())
}

#[cfg(test)]
mod tests;
