//! `GET /api/admin/activity?adminId=&sessionId=&limit=&cursor=`: what support agents did,
//! newest first.

use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "admin-activity",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        request::verified_admin(app, &request).await?;
        let filter = parse::activity_filter(
            request::query_param(&request, "adminId"),
            request::query_param(&request, "sessionId"),
        )?;
        let limit = parse::page_limit(request::query_param(&request, "limit"))?;
        let cursor = parse::page_cursor(request::query_param(&request, "cursor"))?;
        let log = app
            .chat
            .activity_log(&filter, limit, cursor.as_ref())
            .await?;
        Ok::<_, ApiError>(Reply::new(log, "Activity retrieved successfully"))
    };
    respond(app.config(), Operation::ActivityLog, result.await)
}
