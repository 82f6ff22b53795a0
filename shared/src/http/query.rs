//! Query string and path parameters into validated values. Every refusal names the parameter
//! (`VALIDATION_ERROR`).

use super::{ApiError, InputCode};
use crate::chat::MAX_PAGE;
use crate::ids::{is_admin_id, MessageId, SessionId};
use crate::store::{ActivityFilter, PageCursor};

fn query_error(field: &'static str, message: &str) -> ApiError {
    ApiError::bad_request(InputCode::ValidationError, field, message)
}

/// `?limit=`: 1 to 100, 50 when absent.
pub fn page_limit(raw: Option<String>) -> Result<i32, ApiError> {
    const DEFAULT: i32 = 50;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(DEFAULT),
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| query_error("limit", "limit must be a whole number from 1 to 100")),
    }
}

/// A `true`/`false` query switch; absent or empty is false.
pub fn flag(name: &'static str, raw: Option<String>) -> Result<bool, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(query_error(name, &format!("{name} must be true or false"))),
    }
}

/// `?cursor=`: a `nextCursor` this API returned.
pub fn page_cursor(raw: Option<String>) -> Result<Option<PageCursor>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => PageCursor::parse(text)
            .map(Some)
            .ok_or_else(|| query_error("cursor", "cursor must be a nextCursor this API returned")),
    }
}

/// `?adminId=&sessionId=` of the activity log.
pub fn activity_filter(
    admin_id: Option<String>,
    session_id: Option<String>,
) -> Result<ActivityFilter, ApiError> {
    let admin_id = match admin_id.filter(|a| !a.is_empty()) {
        Some(id) if is_admin_id(&id) => Some(id),
        Some(_) => return Err(query_error("adminId", "adminId is not an admin id")),
        None => None,
    };
    let session_id = match session_id.filter(|s| !s.is_empty()) {
        Some(id) => Some(
            SessionId::parse(&id)
                .ok_or_else(|| query_error("sessionId", "sessionId is not a session id"))?,
        ),
        None => None,
    };
    Ok(ActivityFilter {
        admin_id,
        session_id,
    })
}

/// A session id from the path.
pub fn path_session_id(raw: Option<String>) -> Result<SessionId, ApiError> {
    raw.as_deref().and_then(SessionId::parse).ok_or_else(|| {
        ApiError::bad_request(
            InputCode::ValidationError,
            "sessionId",
            "sessionId in the path must be 8 to 128 letters, digits, '_' or '-'",
        )
    })
}

/// The poll cursor. Absent, empty, `undefined` and `null` (what a JavaScript client sends
/// before it has seen a message) all mean "from the start".
pub fn cursor(raw: Option<String>) -> Result<Option<MessageId>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("" | "undefined" | "null") => Ok(None),
        Some(text) => MessageId::parse(text).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                InputCode::ValidationError,
                "after",
                "after must be a messageId this API returned, like msg_000000000001",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_empty_cursors_mean_from_the_start() {
        for raw in [None, Some(""), Some("undefined"), Some("null")] {
            assert_eq!(cursor(raw.map(str::to_owned)).unwrap(), None);
        }
        assert_eq!(
            cursor(Some("msg_000000000007".into())).unwrap(),
            Some(MessageId::from_seq(7))
        );
        assert!(cursor(Some("msg_user_170000".into())).is_err());
    }
}
