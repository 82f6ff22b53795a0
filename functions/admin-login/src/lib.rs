//! `POST /api/admin/auth/login`: email and password to a short-lived token.

use chat_core::http::{parse, request, ApiError, Failure, Reply};
use chat_core::{App, Endpoint};
use lambda_http::Request;

pub const ENDPOINT: Endpoint = Endpoint::api(
    "admin-login",
    Failure::internal("LOGIN_FAILED", "Failed to sign in"),
    |app, request| Box::pin(handle(app, request)),
);

pub async fn handle(app: &App, request: Request) -> Result<Reply, ApiError> {
    let body = request::json_object(&request)?;
    let credentials = parse::login(&body)?;
    let source_ip = request::source_ip(&request);
    let signed_in = app
        .admin_auth()?
        .login(
            credentials.email,
            credentials.password,
            source_ip.as_deref(),
        )
        .await?;
    Ok(Reply::new(signed_in, "Signed in"))
}
