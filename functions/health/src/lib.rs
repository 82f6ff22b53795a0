//! `GET /api/health`: the deployed version and whether DynamoDB answers. Used by ops
//! canaries and by the local stack to know it is ready.

use chat_core::http::{ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;
use serde_json::json;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "health",
    Failure::unavailable("DEPENDENCY_UNAVAILABLE", "The database did not answer"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, _request: Request) -> Result<Reply, ApiError> {
    app.chat.check_health().await?;
    Ok(Reply::new(
        json!({ "version": env!("CARGO_PKG_VERSION"), "dynamodb": "ok" }),
        "Service healthy",
    ))
}
