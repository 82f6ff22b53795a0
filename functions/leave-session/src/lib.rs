//! `POST /api/chat/session/end`: the client leaves; the session ends and can be rated.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "leave-session",
    Failure::internal("END_SESSION_FAILED", "Failed to end chat session"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let access = ClientAccess {
        session_id: parse::session_reference(&request::json_object(&request)?)?,
        token: request::chat_token(&request)?,
    };
    let ended = app.chat.leave_session(&access).await?;
    Ok(Reply::new(ended, "Chat session ended"))
}
