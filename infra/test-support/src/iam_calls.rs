//! Which IAM actions each function needs, as observed: the local gateway runs every handler
//! inside [`serving`], and the [`IamCallRecorder`] interceptor turns each request the SDK sends
//! into the IAM actions AWS checks for it: DynamoDB's on which resource and partition key, the
//! WebSocket management API's (`execute-api:ManageConnections`) on which API, stage, method
//! and connection. The recorder is an `Intercept`, the one trait every SDK client re-exports,
//! so the same recorder goes on the DynamoDB and the management API clients. The test suite
//! writes what it saw to a file; `infra/checks/template_checks.py --iam-calls` compares it
//! with each function's policy in `template.yaml`.

use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static SERVING: &'static str;
}

/// Runs `future` as the function named `function` (its `CodeUri` folder name) would.
pub async fn serving<F: Future>(function: &'static str, future: F) -> F::Output {
    SERVING.scope(function, future).await
}

/// The function whose request is being served on this task, if any.
pub fn serving_function() -> Option<&'static str> {
    SERVING.try_with(|name| *name).ok()
}

/// The WebSocket API's id in the local stack: the template's logical id, so that the IAM check
/// can resolve the `${PushApi}` of the policies (on AWS it is the host's first label).
pub const LOCAL_PUSH_API_ID: &str = "PushApi";

/// One IAM authorization AWS makes for a request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IamCall {
    pub function: String,
    /// DynamoDB's without the `dynamodb:` prefix; any other service's in full
    /// (`execute-api:ManageConnections`).
    pub action: String,
    /// The index queried, when the resource is an index rather than the table.
    pub index: Option<String>,
    /// The partition key value's shape (`SESSION#<id>`, `HEALTH`): what
    /// `dynamodb:LeadingKeys` conditions match.
    pub leading_key: Option<String>,
    /// The resource after `arn:<partition>:<service>:<region>:<account>:`, where the table is
    /// not it: `PushApi/v1/POST/@connections/<id>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// The management API's action for a request to `uri` (the stage URL and
/// `/@connections/{id}`): `<api-id>/<stage>/<METHOD>/@connections/<id>`, what
/// `execute-api:ManageConnections` is authorized on.
pub fn manage_connections_resource(method: &str, uri: &str) -> String {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let (host, path) = after_scheme
        .split_once('/')
        .map_or((after_scheme, ""), |(host, path)| (host, path));
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let api = match host.split_once(".execute-api.") {
        Some((id, _)) => id,
        None => LOCAL_PUSH_API_ID,
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let stage = ["@connections/", "%40connections/"]
        .iter()
        .find_map(|marker| path.find(marker).map(|at| &path[..at]))
        .unwrap_or(path)
        .trim_matches('/');
    format!(
        "{api}/{stage}/{}/@connections/<id>",
        method.to_ascii_uppercase()
    )
}

/// `SESSION#chat_1` -> `SESSION#<id>`, `CONNS#VIEW#chat_1` -> `CONNS#VIEW#<id>`: one entry per
/// kind of partition, not per session (the upper-case words before the id name the kind).
fn key_shape(value: &str) -> String {
    let Some((kind, _)) = value.rsplit_once('#') else {
        return value.to_owned();
    };
    let words: Vec<&str> = kind
        .split('#')
        .take_while(|word| {
            !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
        .collect();
    format!("{}#<id>", words.join("#"))
}

fn partition_key(item: &Value) -> Option<String> {
    item.get("PK")?.get("S")?.as_str().map(key_shape)
}

/// The partition key value a Query's key condition fixes (`PK = :pk`, or an index's `GSIxPK`).
fn queried_partition(body: &Value) -> Option<String> {
    let expression = body.get("KeyConditionExpression")?.as_str()?;
    let names = body.get("ExpressionAttributeNames");
    let values = body.get("ExpressionAttributeValues")?;
    expression.split(" AND ").find_map(|clause| {
        let (name, placeholder) = clause.trim().trim_matches(['(', ')']).split_once('=')?;
        let name = name.trim();
        let name = match name.strip_prefix('#') {
            Some(_) => names?.get(name)?.as_str()?,
            None => name,
        };
        if !name.ends_with("PK") {
            return None;
        }
        values
            .get(placeholder.trim())?
            .get("S")?
            .as_str()
            .map(key_shape)
    })
}

/// The IAM actions (action, index, partition key shape) that AWS authorizes for one request.
/// Transactions and batches are authorized per item, as the item's own action.
pub fn iam_actions(operation: &str, body: &Value) -> Vec<(String, Option<String>, Option<String>)> {
    let one = |action: &str, key: Option<String>| vec![(action.to_owned(), None, key)];
    match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => {
            one(operation, body.get("Key").and_then(partition_key))
        }
        "PutItem" => one(operation, body.get("Item").and_then(partition_key)),
        "Query" | "Scan" => {
            let index = body
                .get("IndexName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let key = (operation == "Query")
                .then(|| queried_partition(body))
                .flatten();
            vec![(operation.to_owned(), index, key)]
        }
        "TransactWriteItems" | "TransactGetItems" => body
            .get("TransactItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let (kind, item) = entry.as_object()?.iter().next()?;
                let (action, key) = match kind.as_str() {
                    "Put" => ("PutItem", item.get("Item")),
                    "Update" => ("UpdateItem", item.get("Key")),
                    "Delete" => ("DeleteItem", item.get("Key")),
                    "ConditionCheck" => ("ConditionCheckItem", item.get("Key")),
                    "Get" => ("GetItem", item.get("Key")),
                    _ => return None,
                };
                Some((action.to_owned(), None, key.and_then(partition_key)))
            })
            .collect(),
        "BatchGetItem" => body
            .get("RequestItems")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|table| {
                table
                    .get("Keys")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|key| ("BatchGetItem".to_owned(), None, partition_key(&key)))
            .collect(),
        "BatchWriteItem" => body
            .get("RequestItems")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|writes| writes.as_array().cloned().unwrap_or_default())
            .map(|write| {
                let key = write
                    .pointer("/PutRequest/Item")
                    .or_else(|| write.pointer("/DeleteRequest/Key"))
                    .and_then(partition_key);
                ("BatchWriteItem".to_owned(), None, key)
            })
            .collect(),
        other => one(other, None),
    }
}

/// Records the IAM calls of requests sent while a function is being served; clones share one
/// record. With a file, the whole record is rewritten there whenever it gains an entry, so it
/// is complete however the process ends.
#[derive(Debug, Clone, Default)]
pub struct IamCallRecorder {
    calls: Arc<Mutex<BTreeSet<IamCall>>>,
    file: Option<PathBuf>,
}

impl IamCallRecorder {
    pub fn writing_to(file: PathBuf) -> Self {
        Self {
            calls: Arc::default(),
            file: Some(file),
        }
    }

    pub fn calls(&self) -> BTreeSet<IamCall> {
        self.calls.lock().expect("recorder lock").clone()
    }

    fn record(&self, new: Vec<IamCall>) -> Result<(), BoxError> {
        let mut calls = self.calls.lock().expect("recorder lock");
        let before = calls.len();
        calls.extend(new);
        if let Some(file) = self.file.as_ref().filter(|_| calls.len() > before) {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let all: Vec<&IamCall> = calls.iter().collect();
            std::fs::write(file, serde_json::to_vec_pretty(&all)?)?;
        }
        Ok(())
    }
}

impl Intercept for IamCallRecorder {
    fn name(&self) -> &'static str {
        "IamCallRecorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(function) = serving_function() else {
            return Ok(()); // the test's own reads and writes, not a function's
        };
        let metadata = cfg.load::<Metadata>();
        if metadata.is_some_and(|m| m.service() == "ApiGatewayManagementApi") {
            let request = context.request();
            return self.record(vec![IamCall {
                function: function.to_owned(),
                action: "execute-api:ManageConnections".to_owned(),
                index: None,
                leading_key: None,
                resource: Some(manage_connections_resource(request.method(), request.uri())),
            }]);
        }
        let operation = metadata
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let body: Value = context
            .request()
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or(Value::Null);
        let calls = iam_actions(&operation, &body)
            .into_iter()
            .map(|(action, index, leading_key)| IamCall {
                function: function.to_owned(),
                action,
                index,
                leading_key,
                resource: None,
            })
            .collect();
        self.record(calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actions(operation: &str, body: Value) -> Vec<(String, Option<String>, Option<String>)> {
        iam_actions(operation, &body)
    }

    fn call(
        action: &str,
        index: Option<&str>,
        key: Option<&str>,
    ) -> (String, Option<String>, Option<String>) {
        (
            action.to_owned(),
            index.map(str::to_owned),
            key.map(str::to_owned),
        )
    }

    #[test]
    fn a_transaction_is_authorized_per_item_as_that_item_action() {
        let body = json!({ "TransactItems": [
            { "Update": { "Key": { "PK": { "S": "SESSION#chat_1" }, "SK": { "S": "SESSION" } } } },
            { "Put": { "Item": { "PK": { "S": "SESSION#chat_1" }, "SK": { "S": "MSG#1" } } } },
            { "ConditionCheck": { "Key": { "PK": { "S": "ADMIN#a1" }, "SK": { "S": "ADMIN" } } } },
            { "Delete": { "Key": { "PK": { "S": "HEALTH" }, "SK": { "S": "HEALTH" } } } },
        ]});
        assert_eq!(
            actions("TransactWriteItems", body),
            [
                call("UpdateItem", None, Some("SESSION#<id>")),
                call("PutItem", None, Some("SESSION#<id>")),
                call("ConditionCheckItem", None, Some("ADMIN#<id>")),
                call("DeleteItem", None, Some("HEALTH")),
            ]
        );
    }

    #[test]
    fn a_query_names_its_index_and_the_partition_it_reads() {
        let body = json!({
            "IndexName": "GSI1",
            "KeyConditionExpression": "#pk = :pk AND GSI1SK < :before",
            "ExpressionAttributeNames": { "#pk": "GSI1PK" },
            "ExpressionAttributeValues": { ":pk": { "S": "ACTIVE" }, ":before": { "S": "z" } },
        });
        assert_eq!(
            actions("Query", body),
            [call("Query", Some("GSI1"), Some("ACTIVE"))]
        );
        let base = json!({
            "KeyConditionExpression": "PK = :pk AND SK > :after",
            "ExpressionAttributeValues": { ":pk": { "S": "SESSION#chat_9" }, ":after": { "S": "MSG#" } },
        });
        assert_eq!(
            actions("Query", base),
            [call("Query", None, Some("SESSION#<id>"))]
        );
    }

    #[test]
    fn batch_reads_are_their_own_action_per_key() {
        let body = json!({ "RequestItems": { "t": { "Keys": [
            { "PK": { "S": "SESSION#a" }, "SK": { "S": "SESSION" } },
            { "PK": { "S": "SESSION#a" }, "SK": { "S": "IDEM#user#k" } },
        ]}}});
        assert_eq!(
            actions("BatchGetItem", body),
            [
                call("BatchGetItem", None, Some("SESSION#<id>")),
                call("BatchGetItem", None, Some("SESSION#<id>")),
            ]
        );
        assert_eq!(
            actions("GetItem", json!({ "Key": { "PK": { "S": "HEALTH" } } })),
            [call("GetItem", None, Some("HEALTH"))]
        );
    }

    #[test]
    fn a_key_keeps_the_words_that_name_its_kind_and_hides_the_id() {
        assert_eq!(key_shape("SESSION#chat_1"), "SESSION#<id>");
        assert_eq!(key_shape("CONNS#VIEW#chat_1"), "CONNS#VIEW#<id>");
        assert_eq!(key_shape("CONNS#ADMIN#adm_x"), "CONNS#ADMIN#<id>");
        assert_eq!(key_shape("CONN#Abc0="), "CONN#<id>");
        assert_eq!(key_shape("SESSION#a#B"), "SESSION#<id>");
        assert_eq!(key_shape("ADMIN_EMAIL#ann@example.com"), "ADMIN_EMAIL#<id>");
        assert_eq!(key_shape("HEALTH"), "HEALTH");
    }

    #[test]
    fn a_management_call_names_its_api_stage_method_and_connection_shape() {
        assert_eq!(
            manage_connections_resource("POST", "http://127.0.0.1:3000/v1/@connections/abc%3D"),
            "PushApi/v1/POST/@connections/<id>"
        );
        assert_eq!(
            manage_connections_resource(
                "delete",
                "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/v1/%40connections/x"
            ),
            "a1b2c3/v1/DELETE/@connections/<id>"
        );
        // At the root (no stage in the URL): an empty stage, which no policy allows.
        assert_eq!(
            manage_connections_resource("GET", "http://localhost:3000/@connections/x"),
            "PushApi//GET/@connections/<id>"
        );
    }

    #[test]
    fn a_dynamodb_call_is_written_as_before() {
        let call = IamCall {
            function: "f".into(),
            action: "GetItem".into(),
            index: None,
            leading_key: Some("HEALTH".into()),
            resource: None,
        };
        assert_eq!(
            serde_json::to_value(&call).unwrap(),
            serde_json::json!({"function": "f", "action": "GetItem", "index": null, "leadingKey": "HEALTH"})
        );
    }

    #[tokio::test]
    async fn the_recorder_goes_on_the_management_api_client_too() {
        use aws_sdk_apigatewaymanagement as management;
        let recorder = IamCallRecorder::default();
        let config = management::Config::builder()
            .behavior_version(management::config::BehaviorVersion::latest())
            .region(management::config::Region::new("us-east-1"))
            .credentials_provider(management::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .retry_config(management::config::retry::RetryConfig::disabled())
            // Nothing listens there: the call fails after the recorder saw it.
            .endpoint_url("http://127.0.0.1:9/v1")
            .interceptor(recorder.clone())
            .build();
        let client = management::Client::from_conf(config);
        let post = client
            .post_to_connection()
            .connection_id("L0SM9cOFvHcCIhw=")
            .data(management::primitives::Blob::new("{}"))
            .send();
        assert!(serving("push-fanout", post).await.is_err());
        assert_eq!(
            recorder.calls().into_iter().collect::<Vec<_>>(),
            [IamCall {
                function: "push-fanout".into(),
                action: "execute-api:ManageConnections".into(),
                index: None,
                leading_key: None,
                resource: Some("PushApi/v1/POST/@connections/<id>".into()),
            }]
        );
    }

    #[tokio::test]
    async fn only_requests_made_while_serving_a_function_are_attributed() {
        assert_eq!(serving_function(), None);
        let inside = serving("create-session", async { serving_function() }).await;
        assert_eq!(inside, Some("create-session"));
        assert_eq!(serving_function(), None);
    }
}
