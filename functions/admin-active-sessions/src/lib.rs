//! `GET /api/admin/chat/active-sessions?limit=&cursor=&waiting=`: active sessions, newest
//! first, or (`waiting=true`) those awaiting an answer, longest wait first.

use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "admin-active-sessions",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        request::verified_admin(app, &request).await?;
        let limit = parse::page_limit(request::query_param(&request, "limit"))?;
        let cursor = parse::page_cursor(request::query_param(&request, "cursor"))?;
        let waiting = parse::flag("waiting", request::query_param(&request, "waiting"))?;
        let sessions = app
            .chat
            .list_active_sessions(limit, cursor.as_ref(), waiting)
            .await?;
        Ok::<_, ApiError>(Reply::new(
            sessions,
            "Active sessions retrieved successfully",
        ))
    };
    respond(app.config(), Operation::ListActiveSessions, result.await)
}
