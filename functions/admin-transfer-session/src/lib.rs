//! `POST /api/admin/chat/transfer {sessionId, toAdminId}`: the holder (or anyone, while nobody
//! holds it) hands the session to an active agent (else 400 `INVALID_ADMIN`).

use chat_core::http::{assignment, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-transfer-session",
    Failure::internal("TRANSFER_FAILED", "Failed to transfer the session"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let (session_id, to) = assignment::transfer(&request::json_object(&request)?)?;
    let moved = app.chat.transfer_session(&admin, &session_id, &to).await?;
    Ok(Reply::new(moved, "Session transferred successfully"))
}
