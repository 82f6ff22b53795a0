//! `POST /api/chat/session`: a client starts a support chat. The only way a session begins.

use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "create-session",
    Failure::internal("SESSION_CREATION_FAILED", "Failed to create chat session"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let new_session = parse::new_session(&request::json_object(&request)?)?;
    let started = app.chat.start_session(new_session).await?;
    Ok(Reply::new(started, "Chat session created successfully"))
}
