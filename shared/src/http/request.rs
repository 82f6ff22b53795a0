//! Reading what API Gateway hands a function: body, headers, path and query parameters.

use super::{ApiError, InputCode};
use crate::admin_auth::VerifiedAdmin;
use crate::ids::ClientToken;
use crate::App;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Map, Value};

/// Largest body any endpoint accepts; the longest valid request is far below it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The client credential header (its own header: the app's `Authorization` is its own).
pub const CHAT_TOKEN_HEADER: &str = "x-chat-token";

/// The body as a JSON object, or the reason it is not one.
pub fn json_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let invalid = |message: &str| ApiError::BadRequest {
        code: InputCode::ValidationError,
        field: None,
        message: message.to_owned(),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("Request body is required"));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| invalid("Request body must be UTF-8 JSON"))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(invalid("Request body must be a JSON object")),
        Err(_) => Err(invalid("Request body is not valid JSON")),
    }
}

/// The `X-Chat-Token` header, if the client sent one.
pub fn chat_token(request: &Request) -> Option<ClientToken> {
    request
        .headers()
        .get(CHAT_TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(ClientToken::from_header)
}

pub fn path_param(request: &Request, name: &str) -> Option<String> {
    request
        .path_parameters_ref()?
        .first(name)
        .map(str::to_owned)
}

pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()?
        .first(name)
        .map(str::to_owned)
}

/// The caller's address as API Gateway saw it (for logs only).
pub fn source_ip(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV1(context) => {
            context.identity.source_ip.clone()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The `Authorization` header (admin endpoints: `Bearer <token>`).
pub fn authorization(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(lambda_http::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// The admin check every admin endpoint starts with: the verified agent, or why not.
pub async fn verified_admin(app: &App, request: &Request) -> Result<VerifiedAdmin, ApiError> {
    Ok(app
        .admin_auth()?
        .authenticate(authorization(request))
        .await?)
}
