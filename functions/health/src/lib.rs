//! `GET /api/health`: the deployed version and whether DynamoDB answers. Used by ops
//! canaries and by the local stack to know it is ready.

use chat_core::http::{respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub const ENDPOINT: Endpoint = Endpoint {
    name: "health",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, _request: Request) -> Response<Body> {
    let result = async {
        app.chat.check_health().await?;
        Ok::<_, ApiError>(Reply::new(
            json!({ "version": env!("CARGO_PKG_VERSION"), "dynamodb": "ok" }),
            "Service healthy",
        ))
    };
    respond(app.config(), Operation::Health, result.await)
}
