//! `POST /api/chat/session/end`: the client leaves; the session ends and can be rated.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "leave-session",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let access = ClientAccess {
            session_id: parse::session_reference(&request::json_object(&request)?)?,
            token: request::chat_token(&request)?,
        };
        let ended = app.chat.leave_session(&access).await?;
        Ok::<_, ApiError>(Reply::new(ended, "Chat session ended"))
    };
    respond(app.config(), Operation::LeaveSession, result.await)
}
