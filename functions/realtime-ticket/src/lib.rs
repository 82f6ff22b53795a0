//! `POST /api/chat/realtime/ticket {sessionId}` with `X-Chat-Token`: a ticket that opens one
//! push connection for this session, valid once, for 60 s (docs/asyncapi.yaml).

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "realtime-ticket",
    Failure::internal("TICKET_FAILED", "Failed to issue a push ticket"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let body = request::json_object(&request)?;
    let access = ClientAccess {
        session_id: parse::session_reference(&body)?,
        token: request::chat_token(&request)?,
    };
    let ticket = app.chat.issue_customer_ticket(&access).await?;
    Ok(Reply::new(ticket, "Push ticket issued"))
}
