//! Posting to WebSocket connections through API Gateway's `@connections` management API.

use crate::store::items::ConnectionItem;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::Client;
use chrono::{DateTime, Utc};

/// Why a post did not reach its connection.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The connection no longer exists (410): forget it, never retry.
    #[error("the connection is gone")]
    Gone,
    /// Anything else (throttled after the SDK's own retries, forbidden, unreachable): the
    /// stream record is reported failed and retried by the event source mapping.
    #[error("post failed: {0}")]
    Failed(String),
}

/// The management API client for one WebSocket API stage.
#[derive(Clone)]
pub struct PushSender {
    client: Client,
}

impl PushSender {
    /// `callback_url`: the stage's URL, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`
    /// (locally `http://127.0.0.1:{port}/{stage}`).
    pub fn new(sdk: &aws_config::SdkConfig, callback_url: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(callback_url)
            .build();
        Self::from_client(Client::from_conf(config))
    }

    /// Around a client built elsewhere (the local stack adds its IAM call recorder).
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    pub async fn post(&self, connection_id: &str, frame: &str) -> Result<(), PostError> {
        self.client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.as_bytes()))
            .send()
            .await
            .map(|_| ())
            .map_err(|err| match err.as_service_error() {
                Some(service) if service.is_gone_exception() => PostError::Gone,
                _ => PostError::Failed(
                    aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&err).to_string(),
                ),
            })
    }

    /// Closes the connection (API Gateway closes it with 1000); gone already counts as done.
    pub async fn close(&self, connection_id: &str) -> Result<(), PostError> {
        self.client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await
            .map(|_| ())
            .or_else(|err| match err.as_service_error() {
                Some(service) if service.is_gone_exception() => Ok(()),
                _ => Err(PostError::Failed(
                    aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&err).to_string(),
                )),
            })
    }
}

/// Posts in flight at once: enough to hide the management API's latency, few enough that a
/// burst stays inside its rate.
pub(super) const CONCURRENT_POSTS: usize = 32;

/// API Gateway's integration timeout: a `$connect` still under way after it has failed.
const CONNECT_SETTLES_IN: chrono::Duration = chrono::Duration::seconds(30);

/// Whether a 410 for this connection means it is gone (not that it is still opening).
pub(super) fn is_settled(connection: &ConnectionItem, now: DateTime<Utc>) -> bool {
    now - connection.connected_at >= CONNECT_SETTLES_IN
}
