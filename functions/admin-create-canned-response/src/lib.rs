//! `POST /api/admin/canned-responses {shortcut, text}`: adds a canned reply for the team. A
//! shortcut another reply has: 409 `SHORTCUT_TAKEN`.

use chat_core::http::{canned, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-create-canned-response",
    Failure::internal(
        "CANNED_RESPONSE_FAILED",
        "Failed to save the canned response",
    ),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let body = request::json_object(&request)?;
    let draft = canned::draft(&body, app.config().max_message_chars)?;
    let created = app.chat.create_canned_response(&admin, draft).await?;
    Ok(Reply::new(created, "Canned response created"))
}
