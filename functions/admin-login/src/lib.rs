//! `POST /api/admin/auth/login`: email and password to a short-lived token.

use chat_core::http::{parse, request, respond, ApiError, Operation, Reply};
use chat_core::{App, Endpoint};
use lambda_http::{Body, Request, Response};

pub const ENDPOINT: Endpoint = Endpoint {
    name: "admin-login",
    handler: |app, request| Box::pin(handle(app, request)),
    uses_dynamodb: true,
};

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let result = async {
        let body = request::json_object(&request)?;
        let (email, password) = parse::login(&body)?;
        let source_ip = request::source_ip(&request);
        let signed_in = app
            .admin_auth()?
            .login(email, password, source_ip.as_deref())
            .await?;
        Ok::<_, ApiError>(Reply::new(signed_in, "Signed in"))
    };
    respond(app.config(), Operation::AdminLogin, result.await)
}
