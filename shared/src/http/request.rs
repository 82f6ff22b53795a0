//! Reading what API Gateway hands a function: body, headers, path and query parameters.

use super::{ApiError, InputCode};
use crate::ids::ClientToken;
use crate::sign_in::auth::VerifiedAdmin;
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

/// The `X-Chat-Token` header, if the client sent one. A blank or malformed one is refused,
/// never taken for "no header" (which migration mode may accept).
pub fn chat_token(request: &Request) -> Result<Option<ClientToken>, ApiError> {
    let Some(value) = request.headers().get(CHAT_TOKEN_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(ClientToken::from_header)
        .map(Some)
        .ok_or(ApiError::Chat(crate::chat::ChatError::MalformedToken))
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

/// Where the API is mounted, as the caller sees it: `/v1` on the execute-api URL (the stage),
/// `` behind a custom domain mapped to the root, `/chat` behind a base path mapping. API
/// Gateway's request context has the path as called; the event's `path` is the route's part.
/// Anything that builds a URL for the caller (the dashboard's assets and API calls) puts it first.
pub fn public_base_path(request: &Request) -> String {
    let called = match request.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV1(context)) => context.path.clone(),
        _ => None,
    };
    let route_path = request.raw_http_path();
    called
        .as_deref()
        .and_then(|called| called.strip_suffix(route_path))
        .filter(|base| is_safe_base_path(base))
        .unwrap_or_default()
        .to_owned()
}

/// `""` or `/segment[/segment...]` of URL-safe characters: it is written into HTML and URLs.
fn is_safe_base_path(base: &str) -> bool {
    base.is_empty()
        || (base.len() <= 128
            && base.starts_with('/')
            && base[1..].split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            }))
}

#[cfg(test)]
mod base_path_tests {
    use super::*;

    fn request(called: &str, route_path: &str) -> Request {
        let event = serde_json::json!({
            "resource": "/admin", "path": route_path, "httpMethod": "GET",
            "headers": {}, "multiValueHeaders": {},
            "requestContext": { "path": called, "stage": "v1", "httpMethod": "GET",
                                "resourcePath": "/admin", "requestId": "r",
                                "identity": { "sourceIp": "127.0.0.1" } },
            "body": null, "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).expect("a REST proxy event")
    }

    #[test]
    fn the_base_is_what_the_caller_called_minus_the_route() {
        assert_eq!(public_base_path(&request("/v1/admin", "/admin")), "/v1");
        assert_eq!(public_base_path(&request("/admin", "/admin")), "");
        assert_eq!(
            public_base_path(&request("/chat/v1/admin/app.js", "/admin/app.js")),
            "/chat/v1"
        );
    }

    #[test]
    fn anything_odd_falls_back_to_the_root() {
        assert_eq!(public_base_path(&request("/other", "/admin")), "");
        assert_eq!(public_base_path(&request("/a\"b/admin", "/admin")), "");
        assert_eq!(public_base_path(&request("/../admin", "/admin")), "");
        assert_eq!(public_base_path(&request("//admin", "/admin")), "");
    }
}
