//! `GET /api/chat/poll/{sessionId}?after={messageId}`: the client fetches the support
//! messages it has not seen, and learns whether the session has ended.

use chat_core::chat::ClientAccess;
use chat_core::http::{query, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "poll-messages",
    Failure::internal("POLLING_FAILED", "Failed to poll messages"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let access = ClientAccess {
        session_id: query::path_session_id(request::path_param(&request, "sessionId"))?,
        token: request::chat_token(&request)?,
    };
    let after = query::cursor(request::query_param(&request, "after"))?;
    let polled = app.chat.poll_support_messages(&access, after).await?;
    Ok(Reply::new(polled, "Messages retrieved successfully"))
}
