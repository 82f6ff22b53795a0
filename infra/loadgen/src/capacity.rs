//! DynamoDB capacity units a run consumed, from the local DynamoDB server's running totals
//! (`GET <server>/_local/capacity`, served by infra/dynamodb_local.py): read before the chats
//! start and after they end (before the delivery check, which reads every transcript).
//! A deployed stack has no such endpoint: CloudWatch's `ConsumedReadCapacityUnits` and
//! `ConsumedWriteCapacityUnits` for the table and each index cover the run's minutes.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where to read a deployed stack's units instead.
pub const DEPLOYED_HINT: &str = "against a deployed stack, read the table's and its indexes' \
    ConsumedReadCapacityUnits and ConsumedWriteCapacityUnits in CloudWatch over the run \
    (LOG_LEVEL=info,dynamodb.capacity=debug logs each request's units)";

/// The server's totals since it started.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct CapacityTotals {
    pub read: f64,
    pub write: f64,
}

/// DynamoDB read and write units per chat started, measured by the local DynamoDB server
/// (`--dynamodb-url`); `None` against a deployed stack.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CapacityPerChat {
    pub read_units: f64,
    pub write_units: f64,
}

/// Reads the totals of the local DynamoDB server at `server` (`http://127.0.0.1:PORT`).
pub async fn read_totals(server: &str) -> Result<CapacityTotals, String> {
    let url = format!("{}/_local/capacity", server.trim_end_matches('/'));
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let answer = tokio::time::timeout(Duration::from_secs(10), client.get(uri))
        .await
        .map_err(|_| format!("{url}: no answer"))?
        .map_err(|e| format!("{url}: {e}"))?;
    if !answer.status().is_success() {
        return Err(format!("{url}: HTTP {}", answer.status()));
    }
    let body = answer
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
}

/// The units between two readings, per chat started.
pub fn per_chat(before: CapacityTotals, after: CapacityTotals, chats: u64) -> CapacityPerChat {
    let chats = chats.max(1) as f64;
    CapacityPerChat {
        read_units: (after.read - before.read) / chats,
        write_units: (after.write - before.write) / chats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_per_chat_are_the_difference_shared_by_the_chats() {
        let before = CapacityTotals {
            read: 10.0,
            write: 4.0,
        };
        let after = CapacityTotals {
            read: 110.0,
            write: 54.0,
        };
        assert_eq!(
            per_chat(before, after, 4),
            CapacityPerChat {
                read_units: 25.0,
                write_units: 12.5
            }
        );
        assert_eq!(per_chat(before, before, 0).read_units, 0.0);
    }
}
