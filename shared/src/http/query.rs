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

/// A UTC day as `YYYY-MM-DD`, exactly (no other widths, no time), from 1970 on (so that a
/// default range before it never reaches a year that `YYYY` cannot write).
fn day(field: &'static str, text: &str) -> Result<chrono::NaiveDate, ApiError> {
    use chrono::Datelike;
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .filter(|date| date.year() >= 1970)
        .ok_or_else(|| {
            query_error(
                field,
                &format!("{field} must be a date YYYY-MM-DD, 1970-01-01 or later"),
            )
        })
}

/// `?from=&to=` of the analytics summary: UTC days, inclusive; `to` defaults to `today`,
/// `from` to six days before `to` (a week); `from` after `to`, or more than 366 days, is
/// refused.
pub fn summary_days(
    from: Option<String>,
    to: Option<String>,
    today: chrono::NaiveDate,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    use crate::chat::analytics::MAX_SUMMARY_DAYS;
    let to = match to.as_deref() {
        None => today,
        Some(text) => day("to", text)?,
    };
    let from = match from.as_deref() {
        None => to - chrono::Duration::days(6),
        Some(text) => day("from", text)?,
    };
    if from > to {
        return Err(query_error("from", "from must not be after to"));
    }
    if (to - from).num_days() + 1 > MAX_SUMMARY_DAYS {
        return Err(query_error(
            "to",
            "a summary covers at most 366 days (from and to inclusive)",
        ));
    }
    Ok((from, to))
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
    fn summary_days_default_to_a_week_and_refuse_bad_ranges() {
        let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let today = day("2026-11-28");
        assert_eq!(
            summary_days(None, None, today).unwrap(),
            (day("2026-11-22"), today)
        );
        let some = |text: &str| Some(text.to_owned());
        assert_eq!(
            summary_days(some("2025-11-28"), some("2026-11-28"), today).unwrap(),
            (day("2025-11-28"), today),
            "366 days, both ends included"
        );
        for (from, to) in [
            ("2025-11-27", "2026-11-28"),
            ("2026-11-29", "2026-11-28"),
            ("2026-02-30", "2026-11-28"),
            ("2026-1-05", "2026-11-28"),
            ("2026-11-28T00:00", "2026-11-28"),
            ("", "2026-11-28"),
            ("2026-11-01", "yesterday"),
            ("1969-12-31", "1970-01-01"),
        ] {
            assert!(
                summary_days(some(from), some(to), today).is_err(),
                "{from}..{to}"
            );
        }
    }

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
