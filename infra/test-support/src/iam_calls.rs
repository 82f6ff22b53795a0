//! Which DynamoDB IAM actions each function needs, as observed: the local gateway runs every
//! handler inside [`serving`], and the [`IamCallRecorder`] interceptor turns each request the
//! SDK sends into the IAM actions AWS checks for it, on which resource and partition key. The
//! test suite writes what it saw to a file; `infra/checks/template_checks.py --iam-calls`
//! compares it with each function's policy in `template.yaml`.

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

/// One IAM authorization AWS makes for a DynamoDB request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IamCall {
    pub function: String,
    /// Without the `dynamodb:` prefix.
    pub action: String,
    /// The index queried, when the resource is an index rather than the table.
    pub index: Option<String>,
    /// The partition key value's shape (`SESSION#<id>`, `HEALTH`): what
    /// `dynamodb:LeadingKeys` conditions match.
    pub leading_key: Option<String>,
}

/// `SESSION#chat_1` -> `SESSION#<id>`: one entry per kind of partition, not per session.
fn key_shape(value: &str) -> String {
    match value.split_once('#') {
        Some((prefix, _)) => format!("{prefix}#<id>"),
        None => value.to_owned(),
    }
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
        let operation = cfg
            .load::<Metadata>()
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

    #[tokio::test]
    async fn only_requests_made_while_serving_a_function_are_attributed() {
        assert_eq!(serving_function(), None);
        let inside = serving("create-session", async { serving_function() }).await;
        assert_eq!(inside, Some("create-session"));
        assert_eq!(serving_function(), None);
    }
}
