//! `DELETE /api/admin/canned-responses/{id}`: removes a canned reply (its shortcut is free
//! again).

use chat_core::http::{canned, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-delete-canned-response",
    Failure::internal(
        "CANNED_RESPONSE_FAILED",
        "Failed to delete the canned response",
    ),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let id = canned::response_id(request::path_param(&request, "id"))?;
    let deleted = app.chat.delete_canned_response(&admin, &id).await?;
    Ok(Reply::new(deleted, "Canned response deleted"))
}
