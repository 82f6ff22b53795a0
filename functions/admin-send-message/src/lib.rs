//! `POST /api/admin/chat/message`: a support agent replies in an active session. The agent is
//! the one the token names; `sender` must say `admin`.
//! The reply claims an unassigned session; in another agent's it needs `"force": true`.

use chat_core::http::{assignment, parse, request, ApiError, Failure, Reply};
use chat_core::model::Sender;
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-send-message",
    Failure::internal("ADMIN_MESSAGE_FAILED", "Failed to send admin message"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let body = request::json_object(&request)?;
    let reply = parse::message(&body, Sender::Admin, app.config().max_message_chars)?;
    let force = assignment::force(&body)?;
    let sent = app
        .chat
        .send_support_message(&admin, &reply.session_id, reply.message, force)
        .await?;
    Ok(Reply::new(sent, "Admin message sent successfully"))
}
