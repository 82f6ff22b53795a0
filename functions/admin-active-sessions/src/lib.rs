//! `GET /api/admin/chat/active-sessions?limit=&cursor=&waiting=`: active sessions, newest
//! first, or (`waiting=true`) those awaiting an answer, longest wait first, or
//! (`assignedTo=me|none`) those the caller holds or nobody holds, newest first.

use chat_core::http::{assignment, query, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-active-sessions",
    Failure::internal("FETCH_SESSIONS_FAILED", "Failed to fetch active sessions"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let admin = request::verified_admin(app, &request).await?;
    let limit = query::page_limit(request::query_param(&request, "limit"))?;
    let cursor = query::page_cursor(request::query_param(&request, "cursor"))?;
    let waiting = query::flag("waiting", request::query_param(&request, "waiting"))?;
    let assigned_to = request::query_param(&request, "assignedTo");
    let list = assignment::session_list(waiting, assigned_to, &admin)?;
    let sessions = app
        .chat
        .list_active_sessions(limit, cursor.as_ref(), &list)
        .await?;
    Ok(Reply::new(
        sessions,
        "Active sessions retrieved successfully",
    ))
}
