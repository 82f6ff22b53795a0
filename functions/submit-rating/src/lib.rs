//! `POST /api/chat/rating`: the client rates its ended session, once.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "submit-rating",
    Failure::internal("RATING_STORAGE_FAILED", "Failed to store rating"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let rated = parse::rating(&request::json_object(&request)?)?;
    let access = ClientAccess {
        session_id: rated.session_id,
        token: request::chat_token(&request)?,
    };
    let receipt = app
        .chat
        .rate_session(&access, rated.rating, rated.feedback)
        .await?;
    Ok(Reply::new(receipt, "Rating submitted successfully"))
}
