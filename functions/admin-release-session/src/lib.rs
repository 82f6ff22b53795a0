//! `POST /api/admin/chat/release {sessionId}`: the holder gives the session back to the team.

use chat_core::http::{assignment, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-release-session",
    Failure::internal("RELEASE_FAILED", "Failed to release the session"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let session_id = assignment::session_of(&request::json_object(&request)?)?;
    let released = app.chat.release_session(&admin, &session_id).await?;
    Ok(Reply::new(released, "Session released successfully"))
}
