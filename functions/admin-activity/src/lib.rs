//! `GET /api/admin/activity?adminId=&sessionId=&limit=&cursor=`: what support agents did,
//! newest first.

use chat_core::http::{query, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-activity",
    Failure::internal("FETCH_ACTIVITY_FAILED", "Failed to fetch the activity log"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    request::verified_admin(app, &request).await?;
    let filter = query::activity_filter(
        request::query_param(&request, "adminId"),
        request::query_param(&request, "sessionId"),
    )?;
    let limit = query::page_limit(request::query_param(&request, "limit"))?;
    let cursor = query::page_cursor(request::query_param(&request, "cursor"))?;
    let log = app
        .chat
        .activity_log(&filter, limit, cursor.as_ref())
        .await?;
    Ok(Reply::new(log, "Activity retrieved successfully"))
}
