//! `POST /api/admin/chat/typing {sessionId}`: an agent is typing a reply. At most one write
//! per 3 s per session; calls in between answer 200 and write nothing.

use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-typing",
    Failure::internal("TYPING_FAILED", "Failed to record typing"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let body = request::json_object(&request)?;
    let session_id = parse::session_reference(&body)?;
    let receipt = app.chat.support_typing(&admin, &session_id).await?;
    Ok(Reply::new(receipt, "Typing recorded"))
}
