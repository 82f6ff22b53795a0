//! `GET /api/admin/agents`: the active support agents (`data.agents`: `adminId`, `name`), for
//! choosing whom to transfer a session to.

use chat_core::http::{request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-agents",
    Failure::internal("FETCH_AGENTS_FAILED", "Failed to fetch the agents"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    request::verified_admin(app, &request).await?;
    let agents = app.chat.active_agents().await?;
    Ok(Reply::new(agents, "Agents retrieved successfully"))
}
