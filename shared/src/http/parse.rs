//! Request bodies into validated commands ("parse, don't validate"). Every refusal names the
//! field and uses the code the mobile client knows for that request.

use super::{ApiError, InputCode};
use crate::chat::{NewSession, OutgoingMessage};
use crate::clock::parse_iso8601;
use crate::ids::{IdempotencyKey, SessionId};
use crate::model::{profile_field, Feedback, MessageText, Rating, Sender, UserInfo};
use serde_json::{Map, Value};

/// Typed access to a JSON object's fields; `null` counts as absent.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    code: InputCode,
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>, code: InputCode) -> Self {
        Self { object, code }
    }

    pub fn error(&self, field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::bad_request(self.code, field, message)
    }

    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|v| !v.is_null())
    }

    pub fn optional_str(&self, name: &'static str) -> Result<Option<&'a str>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.error(name, format!("{name} must be a string"))),
        }
    }

    pub fn required_str(&self, name: &'static str) -> Result<&'a str, ApiError> {
        self.optional_str(name)?
            .ok_or_else(|| self.error(name, format!("{name} is required")))
    }

    pub fn session_id(&self, name: &'static str) -> Result<SessionId, ApiError> {
        let text = self.required_str(name)?;
        SessionId::parse(text).ok_or_else(|| {
            self.error(
                name,
                format!("{name} must be 8 to 128 letters, digits, '_' or '-'"),
            )
        })
    }

    /// A client-side timestamp: accepted for compatibility, checked, never trusted.
    pub fn optional_timestamp(&self, name: &'static str) -> Result<(), ApiError> {
        match self.optional_str(name)? {
            Some(text) if parse_iso8601(text).is_none() => {
                Err(self.error(name, format!("{name} must be an ISO 8601 date-time")))
            }
            _ => Ok(()),
        }
    }
}

/// `POST /api/chat/session`
pub fn new_session(object: &Map<String, Value>) -> Result<NewSession, ApiError> {
    let fields = Fields::new(object, InputCode::InvalidSessionData);
    let session_id = match fields.value("sessionId") {
        None => None,
        Some(_) => Some(fields.session_id("sessionId")?),
    };
    let user_info = match fields.value("userInfo") {
        Some(Value::Object(info)) => user_info(&Fields::new(info, InputCode::InvalidSessionData))?,
        Some(_) => return Err(fields.error("userInfo", "userInfo must be an object")),
        None => return Err(fields.error("userInfo", "userInfo is required")),
    };
    fields.optional_timestamp("startTime")?;
    if let Some(status) = fields.optional_str("status")? {
        if status != "active" {
            return Err(fields.error("status", "a new session's status can only be \"active\""));
        }
    }
    Ok(NewSession {
        session_id,
        user_info,
    })
}

fn user_info(fields: &Fields<'_>) -> Result<UserInfo, ApiError> {
    let text = |name: &'static str| -> Result<Option<String>, ApiError> {
        fields
            .optional_str(name)?
            .map(|raw| {
                profile_field(raw).map_err(|e| fields.error(name, format!("userInfo.{name} {e}")))
            })
            .transpose()
            .map(|v| v.filter(|s| !s.is_empty()))
    };
    let is_guest = match fields.value("isGuest") {
        None => None,
        Some(Value::Bool(flag)) => Some(*flag),
        Some(_) => return Err(fields.error("isGuest", "userInfo.isGuest must be true or false")),
    };
    Ok(UserInfo {
        user_id: text("userId")?,
        name: text("name")?,
        email: text("email")?,
        is_guest,
        guest_session_id: text("guestSessionId")?,
    })
}

/// A message to send, and the session it goes to.
#[derive(Debug, Clone)]
pub struct MessageRequest {
    pub session_id: SessionId,
    pub message: OutgoingMessage,
}

/// `POST /api/chat/message` (sender `user`) and `POST /api/admin/chat/message` (sender
/// `admin`): the body's `sender`, when present, must be the caller's own role.
pub fn message(
    object: &Map<String, Value>,
    sender: Sender,
    max_chars: usize,
) -> Result<MessageRequest, ApiError> {
    let fields = Fields::new(object, InputCode::InvalidMessageData);
    let expected = match sender {
        Sender::User => "user",
        Sender::Admin => "admin",
    };
    match fields.value("sender") {
        // The app's user endpoint never needed it; the dashboard always names itself.
        None if sender == Sender::User => {}
        Some(Value::String(s)) if s == expected => {}
        _ => {
            return Err(ApiError::bad_request(
                InputCode::InvalidSender,
                "sender",
                format!("sender must be \"{expected}\" on this endpoint"),
            ))
        }
    }
    let session_id = fields.session_id("sessionId")?;
    let text = MessageText::parse(fields.required_str("message")?, max_chars)
        .map_err(|e| fields.error("message", format!("message {e}")))?;
    fields.optional_timestamp("timestamp")?;
    let idempotency_key = fields
        .optional_str("messageId")?
        .map(|raw| {
            IdempotencyKey::parse(raw).ok_or_else(|| {
                fields.error(
                    "messageId",
                    "messageId must be 1 to 128 letters, digits or any of _ - . :",
                )
            })
        })
        .transpose()?;
    Ok(MessageRequest {
        session_id,
        message: OutgoingMessage {
            text,
            idempotency_key,
        },
    })
}

/// A rating of a session, with the optional feedback text.
#[derive(Debug, Clone)]
pub struct RatingRequest {
    pub session_id: SessionId,
    pub rating: Rating,
    pub feedback: Option<Feedback>,
}

/// `POST /api/chat/rating`
pub fn rating(object: &Map<String, Value>) -> Result<RatingRequest, ApiError> {
    let fields = Fields::new(object, InputCode::InvalidRatingData);
    let session_id = fields.session_id("sessionId")?;
    let rating = object
        .get("rating")
        .and_then(Rating::from_json)
        .ok_or_else(|| fields.error("rating", "rating must be a whole number from 1 to 5"))?;
    let feedback = fields
        .optional_str("feedback")?
        .map(|raw| {
            Feedback::parse(raw).map_err(|e| fields.error("feedback", format!("feedback {e}")))
        })
        .transpose()?
        .flatten();
    fields.optional_timestamp("timestamp")?;
    Ok(RatingRequest {
        session_id,
        rating,
        feedback,
    })
}

/// A body that only names a session (`POST /api/chat/session/end`).
pub fn session_reference(object: &Map<String, Value>) -> Result<SessionId, ApiError> {
    Fields::new(object, InputCode::InvalidSessionData).session_id("sessionId")
}

/// What an agent signs in with (borrowed from the request body).
#[derive(Debug, Clone, Copy)]
pub struct LoginRequest<'a> {
    pub email: &'a str,
    pub password: &'a str,
}

/// `POST /api/admin/auth/login`
pub fn login(object: &Map<String, Value>) -> Result<LoginRequest<'_>, ApiError> {
    let fields = Fields::new(object, InputCode::ValidationError);
    let email = fields.required_str("email")?;
    let password = fields.required_str("password")?;
    if password.chars().count() > 1_024 {
        return Err(fields.error("password", "password is too long"));
    }
    Ok(LoginRequest { email, password })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn code_of(err: ApiError) -> (&'static str, Option<&'static str>) {
        match err {
            ApiError::BadRequest { code, field, .. } => (code.as_str(), field),
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn the_seed_session_request_parses() {
        let new = new_session(&object(json!({
            "sessionId": "integration-test-session",
            "userInfo": {"userId": "test-user", "name": "Test User", "extra": {"ignored": true}},
            "startTime": "2026-11-26T10:00:00.000Z",
            "status": "active"
        })))
        .unwrap();
        assert_eq!(new.session_id.unwrap().as_str(), "integration-test-session");
        assert_eq!(new.user_info.name.as_deref(), Some("Test User"));
    }

    #[test]
    fn session_requests_are_refused_field_by_field() {
        let cases = [
            (json!({}), "userInfo"),
            (json!({"userInfo": "Bob"}), "userInfo"),
            (json!({"userInfo": {"name": 7}}), "name"),
            (json!({"userInfo": {"isGuest": "yes"}}), "isGuest"),
            (json!({"userInfo": {}, "sessionId": "bad id!"}), "sessionId"),
            (json!({"userInfo": {}, "status": "ended"}), "status"),
            (
                json!({"userInfo": {}, "startTime": "yesterday"}),
                "startTime",
            ),
        ];
        for (body, field) in cases {
            let err = new_session(&object(body.clone())).unwrap_err();
            assert_eq!(
                code_of(err),
                ("INVALID_SESSION_DATA", Some(field)),
                "{body}"
            );
        }
    }

    #[test]
    fn a_client_cannot_post_as_support() {
        for sender in [json!("admin"), json!("USER"), json!(1)] {
            let body =
                object(json!({"sessionId": "session-123", "message": "hi", "sender": sender}));
            let err = message(&body, Sender::User, 100).unwrap_err();
            assert_eq!(code_of(err), ("INVALID_SENDER", Some("sender")));
        }
        let body = object(json!({"sessionId": "session-123", "message": "hi", "sender": "user"}));
        assert!(message(&body, Sender::User, 100).is_ok());
    }

    #[test]
    fn message_requests_are_refused_field_by_field() {
        let cases = [
            (json!({"message": "hi"}), "sessionId"),
            (json!({"sessionId": "session-123"}), "message"),
            (
                json!({"sessionId": "session-123", "message": "   "}),
                "message",
            ),
            (
                json!({"sessionId": "session-123", "message": ["hi"]}),
                "message",
            ),
            (
                json!({"sessionId": "session-123", "message": "x".repeat(101)}),
                "message",
            ),
            (
                json!({"sessionId": "session-123", "message": "a\u{7}b"}),
                "message",
            ),
            (
                json!({"sessionId": "session-123", "message": "hi", "messageId": "has space"}),
                "messageId",
            ),
            (
                json!({"sessionId": "session-123", "message": "hi", "timestamp": 5}),
                "timestamp",
            ),
        ];
        for (body, field) in cases {
            let err = message(&object(body.clone()), Sender::User, 100).unwrap_err();
            assert_eq!(
                code_of(err),
                ("INVALID_MESSAGE_DATA", Some(field)),
                "{body}"
            );
        }
    }

    #[test]
    fn ratings_must_be_whole_stars() {
        for bad in [json!(0), json!(6), json!(3.5), json!("5"), json!(null)] {
            let body = object(json!({"sessionId": "session-123", "rating": bad}));
            assert_eq!(
                code_of(rating(&body).unwrap_err()),
                ("INVALID_RATING_DATA", Some("rating"))
            );
        }
        let body = object(json!({"sessionId": "session-123", "rating": 4, "feedback": "  "}));
        let parsed = rating(&body).unwrap();
        assert_eq!((parsed.rating.stars(), parsed.feedback), (4, None));
    }
}
