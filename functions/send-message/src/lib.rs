//! `POST /api/chat/message`: the client sends a message into its active session.

use chat_core::chat::ClientAccess;
use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::model::Sender;
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "send-message",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let body = request::json_object(&request)?;
        let (session_id, message) =
            parse::message(&body, Sender::User, app.config().max_message_chars)?;
        let access = ClientAccess {
            session_id,
            token: request::chat_token(&request)?,
        };
        let sent = app.chat.send_user_message(&access, message).await?;
        Ok::<_, ApiError>(Reply::new(sent, "Message sent successfully"))
    };
    respond(app.config(), Operation::SendMessage, result.await)
}
