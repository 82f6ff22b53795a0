//! `POST /api/chat/typing {sessionId}`: the customer is typing. At most one write per 3 s;
//! calls in between answer 200 and write nothing.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "client-typing",
    Failure::internal("TYPING_FAILED", "Failed to record typing"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let body = request::json_object(&request)?;
    let access = ClientAccess {
        session_id: parse::session_reference(&body)?,
        token: request::chat_token(&request)?,
    };
    let receipt = app.chat.customer_typing(&access).await?;
    Ok(Reply::new(receipt, "Typing recorded"))
}
