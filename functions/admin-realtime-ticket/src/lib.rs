//! `POST /api/admin/realtime/ticket` with the agent's bearer token: a ticket that opens one
//! push connection for this agent, valid once, for 60 s (docs/asyncapi.yaml).

use chat_core::http::{request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-realtime-ticket",
    Failure::internal("TICKET_FAILED", "Failed to issue a push ticket"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let ticket = app.chat.issue_agent_ticket(&admin).await?;
    Ok(Reply::new(ticket, "Push ticket issued"))
}
