//! `POST /api/chat/session`: a client starts a support chat. The only way a session begins.

use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "create-session",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let new_session = parse::new_session(&request::json_object(&request)?)?;
        let started = app.chat.start_session(new_session).await?;
        Ok::<_, ApiError>(Reply::new(started, "Chat session created successfully"))
    };
    respond(app.config(), Operation::CreateSession, result.await)
}
