//! The keys-only page reader against a scripted DynamoDB: what it sends, and what it makes of
//! answers a local server never gives (a session that left the index between the two reads,
//! keys left unprocessed).

use super::keys::*;
use super::ChatStore;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Answers each request with the next scripted body and keeps what was asked.
#[derive(Debug, Clone, Default)]
struct Scripted {
    answers: Arc<Mutex<VecDeque<Value>>>,
    asked: Arc<Mutex<Vec<(String, Value)>>>,
}

impl HttpConnector for Scripted {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or(b"{}"))
            .expect("a JSON request");
        self.asked.lock().unwrap().push((operation, body));
        let answer = self.answers.lock().unwrap().pop_front().expect("an answer");
        let mut response =
            HttpResponse::new(200.try_into().unwrap(), SdkBody::from(answer.to_string()));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Scripted {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn store(script: &Scripted) -> ChatStore {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .http_client(script.clone())
        .build();
    ChatStore::new(aws_sdk_dynamodb::Client::from_conf(config), "chat")
}

fn key(id: &str) -> Value {
    json!({ "PK": { "S": format!("SESSION#{id}") }, "SK": { "S": SESSION_SK } })
}

fn index_entry(id: &str) -> Value {
    let mut entry = key(id);
    entry["GSI1PK"] = json!({ "S": ACTIVE_PARTITION });
    entry["GSI1SK"] = json!({ "S": format!("2026-11-28T10:00:00.000Z#{id}") });
    entry
}

/// A session as stored; `active` sessions carry the index key.
fn session(id: &str, active: bool) -> Value {
    let mut item = key(id);
    let fields = json!({
        "entity": { "S": "session" },
        "sessionId": { "S": id },
        "userInfo": { "M": { "name": { "S": "Ann" } } },
        "status": { "S": if active { "active" } else { "ended" } },
        "startTime": { "S": "2026-11-28T10:00:00.000Z" },
        "tokenHash": { "S": "hash" },
        "lastSeq": { "N": "0" },
    });
    for (name, value) in fields.as_object().unwrap() {
        item[name] = value.clone();
    }
    if active {
        item["GSI1PK"] = json!({ "S": ACTIVE_PARTITION });
    }
    item
}

fn counter(count: i64) -> Value {
    json!({ "PK": { "S": COUNTER_PK }, "SK": { "S": ACTIVE_COUNT_SK },
            "activeSessions": { "N": count.to_string() } })
}

const A: &str = "chat_1700000000001_aaa";
const B: &str = "chat_1700000000002_bbb";
const C: &str = "chat_1700000000003_ccc";

#[tokio::test]
async fn a_page_is_the_index_order_of_sessions_still_listed_read_with_the_counter() {
    let script = Scripted::default();
    let last = index_entry(C);
    script.answers.lock().unwrap().extend([
        json!({ "Items": [index_entry(A), index_entry(B), index_entry(C)], "Count": 3,
                "LastEvaluatedKey": last }),
        // B ended between the two reads; C's key and the counter are left for a second try.
        json!({ "Responses": { "chat": [session(B, false), session(A, true)] },
                "UnprocessedKeys": { "chat": { "Keys": [key(C), counter(0)] } } }),
        json!({ "Responses": { "chat": [counter(7), session(C, true)] } }),
    ]);
    let list = store(&script).active_sessions(500, None).await.unwrap();

    let ids: Vec<&str> = list
        .sessions
        .items
        .iter()
        .map(|s| s.session_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [A, C],
        "in the index's order, without the one that ended"
    );
    assert_eq!(list.active_count, 7);
    assert!(list.sessions.next.is_some(), "the cursor is the Query's");

    let asked = script.asked.lock().unwrap();
    let operations: Vec<&str> = asked.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(operations, ["Query", "BatchGetItem", "BatchGetItem"]);
    assert_eq!(
        asked[0].1["Limit"], 99,
        "a page and the counter fit one batch"
    );
    assert_eq!(asked[0].1["IndexName"], ACTIVE_INDEX);
    let first_batch = &asked[1].1["RequestItems"]["chat"];
    assert_eq!(
        first_batch["Keys"],
        json!([key(A), key(B), key(C), counter_key_json()])
    );
    assert_eq!(
        asked[2].1["RequestItems"]["chat"]["Keys"],
        json!([key(C), counter(0)]),
        "only the unprocessed keys again"
    );
}

fn counter_key_json() -> Value {
    json!({ "PK": { "S": COUNTER_PK }, "SK": { "S": ACTIVE_COUNT_SK } })
}

#[tokio::test]
async fn keys_left_unprocessed_every_time_are_dynamodb_shedding_load() {
    let script = Scripted::default();
    script
        .answers
        .lock()
        .unwrap()
        .push_back(json!({ "Items": [index_entry(A)], "Count": 1 }));
    for _ in 0..5 {
        script.answers.lock().unwrap().push_back(json!({
            "Responses": { "chat": [] },
            "UnprocessedKeys": { "chat": { "Keys": [key(A)] } }
        }));
    }
    let error = store(&script).active_sessions(10, None).await.unwrap_err();
    assert!(
        matches!(error, super::StoreError::Unavailable(_)),
        "{error:?}"
    );
    assert_eq!(
        script.asked.lock().unwrap().len(),
        6,
        "bounded: 1 Query, 5 batches"
    );
}
