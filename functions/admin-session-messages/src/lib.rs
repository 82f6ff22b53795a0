//! `GET /api/admin/chat/messages/{sessionId}?after=`: the transcript (both sides) and the
//! session's details, for active and ended sessions alike.

use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "admin-session-messages",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let admin = request::verified_admin(app, &request).await?;
        let session_id = parse::path_session_id(request::path_param(&request, "sessionId"))?;
        let after = parse::cursor(request::query_param(&request, "after"))?;
        let transcript = app
            .chat
            .session_transcript(&admin, &session_id, after)
            .await?;
        Ok::<_, ApiError>(Reply::new(transcript, "Messages retrieved successfully"))
    };
    respond(app.config(), Operation::SessionMessages, result.await)
}
