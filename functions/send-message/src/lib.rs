//! `POST /api/chat/message`: the client sends a message into its active session.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::model::Sender;
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "send-message",
    Failure::internal("MESSAGE_STORAGE_FAILED", "Failed to store message"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let body = request::json_object(&request)?;
    let sent = parse::message(&body, Sender::User, app.config().max_message_chars)?;
    let access = ClientAccess {
        session_id: sent.session_id,
        token: request::chat_token(&request)?,
    };
    let sent = app.chat.send_user_message(&access, sent.message).await?;
    Ok(Reply::new(sent, "Message sent successfully"))
}
