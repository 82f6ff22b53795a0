//! `GET /api/admin/canned-responses`: every canned reply of the team, by shortcut.

use chat_core::http::{request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-canned-responses",
    Failure::internal("CANNED_RESPONSES_FAILED", "Failed to read canned responses"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    request::verified_admin(app, &request).await?;
    let responses = app.chat.canned_responses().await?;
    Ok(Reply::new(
        responses,
        "Canned responses retrieved successfully",
    ))
}
