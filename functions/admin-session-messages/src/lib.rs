//! `GET /api/admin/chat/messages/{sessionId}?after=`: the transcript (both sides) and the
//! session's details, for active and ended sessions alike.

use chat_core::http::{query, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-session-messages",
    Failure::internal("FETCH_MESSAGES_FAILED", "Failed to fetch messages"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let session_id = query::path_session_id(request::path_param(&request, "sessionId"))?;
    let after = query::cursor(request::query_param(&request, "after"))?;
    let transcript = app
        .chat
        .session_transcript(&admin, &session_id, after)
        .await?;
    Ok(Reply::new(transcript, "Messages retrieved successfully"))
}
