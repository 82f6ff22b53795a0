//! `GET /api/admin/analytics/summary?from=YYYY-MM-DD&to=YYYY-MM-DD`: the daily counters of a
//! range of UTC days (default: the last 7), per day, in total and as event rows per day and type.

use chat_core::http::{query, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-analytics-summary",
    Failure::internal(
        "FETCH_ANALYTICS_FAILED",
        "Failed to fetch the analytics summary",
    ),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    request::verified_admin(app, &request).await?;
    let (from, to) = query::summary_days(
        request::query_param(&request, "from"),
        request::query_param(&request, "to"),
        app.chat.now().date_naive(),
    )?;
    let summary = app.chat.analytics_summary(from, to).await?;
    Ok(Reply::new(
        summary,
        "Analytics summary retrieved successfully",
    ))
}
