//! `POST /api/admin/chat/claim {sessionId}`: the agent the token names takes the session
//! (409 `ALREADY_ASSIGNED` while another agent holds it).

use chat_core::http::{assignment, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-claim-session",
    Failure::internal("CLAIM_FAILED", "Failed to claim the session"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let session_id = assignment::session_of(&request::json_object(&request)?)?;
    let assigned = app.chat.claim_session(&admin, &session_id).await?;
    Ok(Reply::new(assigned, "Session claimed successfully"))
}
