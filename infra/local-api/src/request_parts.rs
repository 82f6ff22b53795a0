//! The pieces of an API Gateway event that the REST and the WebSocket events share: headers
//! and query parameters in their single- and multi-value forms, decoded.

use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

pub(crate) fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// API Gateway's single- and multi-value forms of headers or query parameters: the last
/// value of each name, and all of them in order.
pub(crate) fn single_and_multi(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), Value::String(value.clone()));
        match multi.get_mut(&name) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            _ => {
                multi.insert(name, json!([value]));
            }
        }
    }
    (single, multi)
}

/// A query string's parameters, decoded, in order.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// API Gateway sends `null`, not `{}`, for an empty map.
pub(crate) fn or_null(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}
