//! `PUT /api/admin/canned-responses/{id} {shortcut, text}`: replaces a canned reply's shortcut
//! and text.

use chat_core::http::{canned, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-update-canned-response",
    Failure::internal(
        "CANNED_RESPONSE_FAILED",
        "Failed to save the canned response",
    ),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let id = canned::response_id(request::path_param(&request, "id"))?;
    let body = request::json_object(&request)?;
    let draft = canned::draft(&body, app.config().max_message_chars)?;
    let updated = app.chat.update_canned_response(&admin, &id, draft).await?;
    Ok(Reply::new(updated, "Canned response updated"))
}
