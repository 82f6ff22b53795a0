//! `POST /api/chat/rating`: the client rates its ended session, once.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "submit-rating",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let (session_id, rating, feedback) = parse::rating(&request::json_object(&request)?)?;
        let access = ClientAccess {
            session_id,
            token: request::chat_token(&request)?,
        };
        let receipt = app.chat.rate_session(&access, rating, feedback).await?;
        Ok::<_, ApiError>(Reply::new(receipt, "Rating submitted successfully"))
    };
    respond(app.config(), Operation::SubmitRating, result.await)
}
