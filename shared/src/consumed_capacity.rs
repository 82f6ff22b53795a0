//! The capacity units each DynamoDB request consumed, in the log: every data-plane request
//! asks for `ReturnConsumedCapacity = TOTAL` (a few bytes more in the answer) and the answer's
//! units are logged as the `consumed_capacity` field of a `dynamodb.capacity` event, at debug
//! level: one line per DynamoDB request would be most of a poll's log bytes, so it is off
//! unless asked for (`LOG_LEVEL=info,dynamodb.capacity=debug`), in AWS as locally. The
//! functions attach [`ConsumedCapacityLog`] only while it is asked for
//! ([`crate::app::dynamodb_config`]); the tests attach it to read the units of every request.

use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::body::SdkBody;
use serde_json::Value;

/// The operations that accept `ReturnConsumedCapacity`.
const MEASURED: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
];

/// Whether the `dynamodb.capacity` log is on (debug level for that target).
pub fn logging_enabled() -> bool {
    tracing::enabled!(target: "dynamodb.capacity", tracing::Level::DEBUG)
}

/// Attach with `aws_sdk_dynamodb::config::Builder::interceptor`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsumedCapacityLog;

fn operation(cfg: &ConfigBag) -> Option<&str> {
    cfg.load::<Metadata>()
        .map(Metadata::name)
        .filter(|name| MEASURED.contains(name))
}

/// The request body with `ReturnConsumedCapacity: TOTAL` added (a caller's own choice kept).
/// Spliced in after the opening brace rather than parsed and written again: this runs on every
/// request (parsing cost about 10 µs a request, measured by `make bench`). The caller's choice
/// is looked for with `str::contains` (a linear search): comparing the key at every byte took
/// tens of thousands of instructions on a transaction's body.
fn asking_for_capacity(body: &[u8]) -> Option<Vec<u8>> {
    const FIELD: &[u8] = br#""ReturnConsumedCapacity":"TOTAL""#;
    let rest = body.trim_ascii_start().strip_prefix(b"{")?;
    if std::str::from_utf8(rest)
        .ok()?
        .contains(r#""ReturnConsumedCapacity""#)
    {
        return None;
    }
    let empty = rest.trim_ascii_start().starts_with(b"}");
    let mut spliced = Vec::with_capacity(body.len() + FIELD.len() + 2);
    spliced.push(b'{');
    spliced.extend_from_slice(FIELD);
    if !empty {
        spliced.push(b',');
    }
    spliced.extend_from_slice(rest);
    Some(spliced)
}

/// The units an answer reports: one `ConsumedCapacity` object, or one per table.
pub fn consumed_units(body: &[u8]) -> Option<f64> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let units = |c: &Value| c.get("CapacityUnits").and_then(Value::as_f64);
    match json.get("ConsumedCapacity")? {
        Value::Array(tables) => tables.iter().map(units).sum(),
        one => units(one),
    }
}

impl Intercept for ConsumedCapacityLog {
    fn name(&self) -> &'static str {
        "ConsumedCapacityLog"
    }

    // Before signing, so the signature covers the body as sent.
    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if operation(cfg).is_none() {
            return Ok(());
        }
        let request = context.request_mut();
        let Some(body) = request.body().bytes().and_then(asking_for_capacity) else {
            return Ok(());
        };
        request
            .headers_mut()
            .insert("content-length", body.len().to_string());
        *request.body_mut() = SdkBody::from(body);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(operation) = operation(cfg) else {
            return Ok(());
        };
        if !logging_enabled() {
            return Ok(());
        }
        let units = context.response().body().bytes().and_then(consumed_units);
        if let Some(units) = units {
            tracing::debug!(
                target: "dynamodb.capacity",
                operation,
                consumed_capacity = units,
                "DynamoDB request"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_ask_for_the_total_unless_they_chose() {
        let asked = asking_for_capacity(br#"{"TableName":"t"}"#).unwrap();
        let json: Value = serde_json::from_slice(&asked).unwrap();
        assert_eq!(json["ReturnConsumedCapacity"], "TOTAL");
        assert_eq!(json["TableName"], "t");
        assert_eq!(
            asking_for_capacity(br#"{"ReturnConsumedCapacity":"INDEXES"}"#),
            None
        );
        assert_eq!(asking_for_capacity(b"not json"), None);
        let empty: Value = serde_json::from_slice(&asking_for_capacity(b" { }").unwrap()).unwrap();
        assert_eq!(
            empty,
            serde_json::json!({ "ReturnConsumedCapacity": "TOTAL" })
        );
    }

    #[test]
    fn answers_report_units_for_one_table_or_several() {
        let one = br#"{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.5}}"#;
        assert_eq!(consumed_units(one), Some(1.5));
        let many = br#"{"ConsumedCapacity":[{"CapacityUnits":2.0},{"CapacityUnits":4.0}]}"#;
        assert_eq!(consumed_units(many), Some(6.0));
        assert_eq!(consumed_units(br#"{"Item":{}}"#), None);
    }
}
