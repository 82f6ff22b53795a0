//! The HTTP edge: reading API Gateway requests and writing the response envelope.
//!
//! [`ApiError::into_parts`] is the one place where an error becomes a status and a code.

pub mod assignment;
pub mod canned;
pub mod parse;
pub mod query;
pub mod request;

use crate::chat::ChatError;
use crate::config::Config;
use crate::sign_in::auth::AdminAuthError;
use crate::store::StoreError;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{json, Value};
use thiserror::Error;

/// The mobile client's `code` for a field it got wrong, by what was being submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputCode {
    InvalidSessionData,
    InvalidMessageData,
    InvalidSender,
    InvalidRatingData,
    ValidationError,
}

impl InputCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidSessionData => "INVALID_SESSION_DATA",
            Self::InvalidMessageData => "INVALID_MESSAGE_DATA",
            Self::InvalidSender => "INVALID_SENDER",
            Self::InvalidRatingData => "INVALID_RATING_DATA",
            Self::ValidationError => "VALIDATION_ERROR",
        }
    }
}

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        code: InputCode,
        field: Option<&'static str>,
        message: String,
    },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Auth(#[from] AdminAuthError),
}

impl ApiError {
    pub fn bad_request(code: InputCode, field: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            field: Some(field),
            message: message.into(),
        }
    }

    /// Seconds the caller should wait before trying again (the `Retry-After` header), for the
    /// answers that say "not now" rather than "no".
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Chat(ChatError::Store(StoreError::Unavailable(_)))
            | Self::Auth(AdminAuthError::Store(StoreError::Unavailable(_))) => {
                Some(UNAVAILABLE_RETRY_AFTER_SECONDS)
            }
            Self::Auth(AdminAuthError::TooManyAttempts {
                retry_after_seconds,
            }) => Some(*retry_after_seconds),
            _ => None,
        }
    }

    /// Status, code, message and details for the envelope.
    fn into_parts(self, failure: Failure) -> (StatusCode, &'static str, String, Value) {
        match self {
            Self::BadRequest {
                code,
                field,
                message,
            } => (
                StatusCode::BAD_REQUEST,
                code.as_str(),
                message,
                field.map_or(Value::Null, |f| json!({ "field": f })),
            ),
            Self::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("Request body must be at most {limit} bytes"),
                Value::Null,
            ),
            // A forged or foreign page cursor: DynamoDB would refuse it as a start key.
            Self::Chat(ChatError::Store(StoreError::ForeignCursor)) => (
                StatusCode::BAD_REQUEST,
                InputCode::ValidationError.as_str(),
                "cursor is not a cursor of this list".to_owned(),
                json!({ "field": "cursor" }),
            ),
            // The same answer from every endpoint: the client retries after Retry-After.
            Self::Chat(ChatError::Store(StoreError::Unavailable(detail)))
            | Self::Auth(AdminAuthError::Store(StoreError::Unavailable(detail))) => {
                tracing::warn!(error = %detail, endpoint_failure = failure.code, "DynamoDB unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "The service is temporarily unavailable, please retry shortly".to_owned(),
                    Value::Null,
                )
            }
            Self::Chat(ChatError::Store(err)) | Self::Auth(AdminAuthError::Store(err)) => {
                store_failure(failure, &err)
            }
            Self::Chat(err) => {
                let (status, code) = match &err {
                    ChatError::NoToken | ChatError::MalformedToken => {
                        (StatusCode::UNAUTHORIZED, "NO_TOKEN")
                    }
                    ChatError::SessionNotFound => (StatusCode::NOT_FOUND, "SESSION_NOT_FOUND"),
                    ChatError::SessionExists => (StatusCode::CONFLICT, "SESSION_EXISTS"),
                    ChatError::RatingExists => (StatusCode::BAD_REQUEST, "RATING_EXISTS"),
                    ChatError::Contention => (StatusCode::SERVICE_UNAVAILABLE, "SESSION_BUSY"),
                    ChatError::IdempotencyKeyReused => {
                        (StatusCode::CONFLICT, "IDEMPOTENCY_KEY_REUSED")
                    }
                    ChatError::AlreadyAssigned(holder) => {
                        let details = json!({ "assignedTo": holder });
                        let message = capitalize(&err.to_string());
                        return (StatusCode::CONFLICT, "ALREADY_ASSIGNED", message, details);
                    }
                    ChatError::InvalidTransferTarget => (StatusCode::BAD_REQUEST, "INVALID_ADMIN"),
                    ChatError::ShortcutTaken => (StatusCode::CONFLICT, "SHORTCUT_TAKEN"),
                    ChatError::CannedResponseNotFound => {
                        (StatusCode::NOT_FOUND, "CANNED_RESPONSE_NOT_FOUND")
                    }
                    ChatError::TooManyCannedResponses => {
                        (StatusCode::CONFLICT, "TOO_MANY_CANNED_RESPONSES")
                    }
                    ChatError::PushUnavailable => {
                        (StatusCode::SERVICE_UNAVAILABLE, "PUSH_UNAVAILABLE")
                    }
                    ChatError::Store(_) => unreachable!("handled above"),
                };
                (status, code, capitalize(&err.to_string()), Value::Null)
            }
            Self::Auth(err) => {
                let (status, code) = match &err {
                    AdminAuthError::NoToken => (StatusCode::UNAUTHORIZED, "NO_TOKEN"),
                    AdminAuthError::AuthFailed | AdminAuthError::InvalidCredentials => {
                        (StatusCode::UNAUTHORIZED, "AUTH_FAILED")
                    }
                    AdminAuthError::InvalidAdmin => (StatusCode::UNAUTHORIZED, "INVALID_ADMIN"),
                    AdminAuthError::TooManyAttempts { .. } => {
                        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS")
                    }
                    AdminAuthError::NotConfigured => {
                        tracing::error!(
                            "admin endpoint called without ADMIN_JWT_SECRET configured"
                        );
                        (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
                    }
                    AdminAuthError::Store(_) => unreachable!("handled above"),
                };
                (status, code, capitalize(&err.to_string()), Value::Null)
            }
        }
    }
}

/// What a 503 `SERVICE_UNAVAILABLE` asks the caller to wait: DynamoDB sheds load for moments.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 1;

/// Something outside the caller's control broke: the detail goes to the log, never to them.
fn store_failure(failure: Failure, err: &StoreError) -> (StatusCode, &'static str, String, Value) {
    tracing::error!(error = %err, endpoint_failure = failure.code, "request failed");
    (
        failure.status,
        failure.code,
        failure.message.to_owned(),
        Value::Null,
    )
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// What an endpoint answers when something outside the caller's control breaks (DynamoDB
/// refused a request in a way a retry would not fix): declared once, in the endpoint's
/// [`Endpoint`](crate::endpoint::Endpoint), and listed for its route in `docs/openapi.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
}

impl Failure {
    /// A 500 with the endpoint's own code.
    pub const fn internal(code: &'static str, message: &'static str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code,
            message,
        }
    }

    /// A 503: for the health check, whose whole answer is whether DynamoDB works.
    pub const fn unavailable(code: &'static str, message: &'static str) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code,
            message,
        }
    }
}

/// A successful answer: its data (already JSON text) and the human-readable message.
pub struct Reply {
    /// Serialized straight to text: going through a `serde_json::Value` tree first cost a
    /// map, a key string and an allocation per field on every request.
    data: Result<String, serde_json::Error>,
    message: &'static str,
}

impl Reply {
    pub fn new(data: impl Serialize, message: &'static str) -> Self {
        Self {
            data: serde_json::to_string(&data),
            message,
        }
    }
}

/// `{"data":…,"message":…,"success":true}`, written around the data's text.
fn success_body(data: &str, message: &str) -> String {
    let message = Value::from(message).to_string();
    let mut body = String::with_capacity(data.len() + message.len() + 40);
    body.push_str(r#"{"data":"#);
    body.push_str(data);
    body.push_str(r#","message":"#);
    body.push_str(&message);
    body.push_str(r#","success":true}"#);
    body
}

/// Turns an endpoint's result into the envelope the mobile client expects.
pub fn respond(
    config: &Config,
    failure: Failure,
    result: Result<Reply, ApiError>,
) -> Response<Body> {
    let retry_after = result.as_ref().err().and_then(ApiError::retry_after);
    let (status, body) = match result {
        Ok(reply) => match reply.data {
            Ok(data) => (StatusCode::OK, success_body(&data, reply.message)),
            Err(err) => {
                tracing::error!(error = %err, "response could not be serialized");
                failure_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "An internal server error occurred".into(),
                    Value::Null,
                )
            }
        },
        Err(err) => {
            let (status, code, message, details) = err.into_parts(failure);
            failure_body(status, code, message, details)
        }
    };
    // Every 503 is "try again shortly", and says when.
    let retry_after = retry_after
        .or((status == StatusCode::SERVICE_UNAVAILABLE).then_some(UNAVAILABLE_RETRY_AFTER_SECONDS));
    let mut response = json_response(config, status, body);
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn failure_body(
    status: StatusCode,
    code: &str,
    message: String,
    details: Value,
) -> (StatusCode, String) {
    let mut error = json!({ "code": code, "message": message });
    if !details.is_null() {
        error["details"] = details;
    }
    (
        status,
        json!({ "success": false, "error": error }).to_string(),
    )
}

/// An error envelope with a code of the caller's choosing (the local gateway's own errors).
pub fn error_response(
    config: &Config,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response<Body> {
    let (status, body) = failure_body(status, code, message.to_owned(), Value::Null);
    json_response(config, status, body)
}

/// API Gateway's own refusal, as template.yaml's `GatewayResponses` word it: the envelope with
/// the request id in `details`, so support can find the call in the access log.
pub fn gateway_error_response(
    config: &Config,
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response<Body> {
    let details = serde_json::json!({ "requestId": request_id });
    let (status, body) = failure_body(status, code, message.to_owned(), details);
    json_response(config, status, body)
}

fn json_response(config: &Config, status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    // Chat data is personal: no cache between the app and us may keep it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(origin) = config
        .cors_allow_origin
        .as_deref()
        .and_then(|o| HeaderValue::from_str(o).ok())
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

#[cfg(test)]
mod tests;
