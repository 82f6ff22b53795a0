//! `POST /api/admin/chat/session/end`: a support agent ends an active session. The acting
//! admin, the end time and the status are the server's; the body's are ignored.

use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "admin-end-session",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let admin = request::verified_admin(app, &request).await?;
        let session_id = parse::session_reference(&request::json_object(&request)?)?;
        let ended = app.chat.end_session_by_admin(&admin, &session_id).await?;
        Ok::<_, ApiError>(Reply::new(ended, "Chat session ended successfully"))
    };
    respond(app.config(), Operation::AdminEndSession, result.await)
}
