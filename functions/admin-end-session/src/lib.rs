//! `POST /api/admin/chat/session/end`: a support agent ends an active session. The acting
//! admin, the end time and the status are the server's; the body's are ignored.

use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-end-session",
    Failure::internal("END_SESSION_FAILED", "Failed to end chat session"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let session_id = parse::session_reference(&request::json_object(&request)?)?;
    let ended = app.chat.end_session_by_admin(&admin, &session_id).await?;
    Ok(Reply::new(ended, "Chat session ended successfully"))
}
