//! `GET /api/chat/poll/{sessionId}?after={messageId}`: the client fetches the support
//! messages it has not seen, and learns whether the session has ended.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "poll-messages",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let access = ClientAccess {
            session_id: parse::path_session_id(request::path_param(&request, "sessionId"))?,
            token: request::chat_token(&request)?,
        };
        let after = parse::cursor(request::query_param(&request, "after"))?;
        let polled = app.chat.poll_support_messages(&access, after).await?;
        Ok::<_, ApiError>(Reply::new(polled, "Messages retrieved successfully"))
    };
    respond(app.config(), Operation::PollMessages, result.await)
}
