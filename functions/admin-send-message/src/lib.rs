//! `POST /api/admin/chat/message`: a support agent replies in an active session. The agent is
//! the one the token names; `sender` must say `admin`.

use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::model::Sender;
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "admin-send-message",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let admin = request::verified_admin(app, &request).await?;
        let body = request::json_object(&request)?;
        let (session_id, message) =
            parse::message(&body, Sender::Admin, app.config().max_message_chars)?;
        let sent = app
            .chat
            .send_support_message(&admin, &session_id, message)
            .await?;
        Ok::<_, ApiError>(Reply::new(sent, "Admin message sent successfully"))
    };
    respond(app.config(), Operation::AdminSendMessage, result.await)
}
