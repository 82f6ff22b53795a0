//! Domain values. Each is built by a `parse` that enforces its rules, so a value that exists is valid.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    User,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Active,
    /// The client left.
    Ended,
    EndedByAdmin,
}

impl SessionStatus {
    pub fn is_active(self) -> bool {
        self == Self::Active
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Ended => "ended",
            Self::EndedByAdmin => "ended_by_admin",
        }
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who the client says it is. Only these fields are kept: the rest of a client's object is
/// dropped rather than stored unbounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_guest: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_session_id: Option<String>,
}

/// Why a piece of user text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters other than newline and tab")]
    ControlCharacter,
}

/// Free text typed by a person: printable as sent (newline and tab allowed; checked before
/// trimming, so that the rule is the one `docs/openapi.yaml` states), trimmed, bounded.
fn clean_text(raw: &str, max_chars: usize) -> Result<String, TextError> {
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(TextError::ControlCharacter);
    }
    let text = raw.trim();
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong { max: max_chars });
    }
    Ok(text.to_owned())
}

/// A chat message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, TextError> {
        let text = clean_text(raw, max_chars)?;
        if text.is_empty() {
            return Err(TextError::Empty);
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short profile field from `userInfo` (name, email, ids).
pub fn profile_field(raw: &str) -> Result<String, TextError> {
    const PROFILE_FIELD_CHARS: usize = 320;
    let text = clean_text(raw, PROFILE_FIELD_CHARS)?;
    if text.contains('\n') || text.contains('\t') {
        return Err(TextError::ControlCharacter);
    }
    Ok(text)
}

/// 1 to 5 stars, a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub fn new(stars: u8) -> Option<Self> {
        (1..=5).contains(&stars).then_some(Self(stars))
    }

    /// Only a JSON integer counts: `"5"`, `3.5` and `null` are refused, as the mobile app
    /// always sends a number.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        value
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .and_then(Self::new)
    }

    pub fn stars(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = String;
    fn try_from(stars: u8) -> Result<Self, Self::Error> {
        Self::new(stars).ok_or_else(|| format!("rating {stars} is outside 1..5"))
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> Self {
        rating.0
    }
}

/// What the user wrote with their rating; blank feedback is no feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback(String);

impl Feedback {
    pub const MAX_CHARS: usize = 2_000;

    pub fn parse(raw: &str) -> Result<Option<Self>, TextError> {
        let text = clean_text(raw, Self::MAX_CHARS)?;
        Ok((!text.is_empty()).then_some(Self(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The first-response time histogram the daily analytics count in (the store keeps one counter
/// per bucket, the summary turns them into percentiles).
pub mod first_response_histogram {
    /// Upper edges (seconds, inclusive) of the first-response histogram buckets: bucket 0 holds
    /// 0 to 5 s, bucket `i` holds more than `EDGES[i - 1]` up to `EDGES[i]`, and one last bucket
    /// holds everything over a day. A percentile is reported as the upper edge of the bucket it
    /// falls in, so the true value is above the previous edge and at most the reported one.
    pub const FIRST_RESPONSE_EDGES_SECONDS: [u64; 23] = [
        5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800, 2700, 3600,
        7200, 14_400, 28_800, 86_400,
    ];

    /// Buckets in all: one per edge and the overflow bucket.
    pub const FIRST_RESPONSE_BUCKET_COUNT: usize = FIRST_RESPONSE_EDGES_SECONDS.len() + 1;

    /// The bucket a first response of `millis` falls in.
    pub fn first_response_bucket(millis: u64) -> usize {
        FIRST_RESPONSE_EDGES_SECONDS
            .iter()
            .position(|edge| millis <= edge * 1000)
            .unwrap_or(FIRST_RESPONSE_EDGES_SECONDS.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_are_trimmed_bounded_and_printable() {
        assert_eq!(MessageText::parse("  hi\n", 10).unwrap().as_str(), "hi");
        assert_eq!(MessageText::parse(" \n\t ", 10), Err(TextError::Empty));
        assert_eq!(
            MessageText::parse("ééééé", 4),
            Err(TextError::TooLong { max: 4 })
        );
        assert!(
            MessageText::parse("ééééé", 5).is_ok(),
            "counts characters, not bytes"
        );
        assert_eq!(
            MessageText::parse("a\u{0}b", 10),
            Err(TextError::ControlCharacter)
        );
        assert_eq!(
            MessageText::parse("a\u{1b}[31mb", 10),
            Err(TextError::ControlCharacter)
        );
        assert!(MessageText::parse("line one\nline\ttwo", 100).is_ok());
        // Checked as sent, before trimming: the rule the API description states.
        assert_eq!(
            MessageText::parse("\rhi", 10),
            Err(TextError::ControlCharacter)
        );
    }

    #[test]
    fn ratings_are_whole_stars_from_one_to_five() {
        assert_eq!(Rating::from_json(&json!(5)).map(Rating::stars), Some(5));
        assert_eq!(Rating::from_json(&json!(1)).map(Rating::stars), Some(1));
        for bad in [
            json!(0),
            json!(6),
            json!(3.5),
            json!("5"),
            json!(null),
            json!(-1),
        ] {
            assert_eq!(Rating::from_json(&bad), None, "{bad} must be refused");
        }
    }

    #[test]
    fn feedback_is_optional_and_bounded() {
        assert_eq!(Feedback::parse("   ").unwrap(), None);
        assert!(Feedback::parse(&"x".repeat(2_000)).unwrap().is_some());
        assert!(Feedback::parse(&"x".repeat(2_001)).is_err());
    }

    #[test]
    fn statuses_use_the_seed_spelling() {
        assert_eq!(
            serde_json::to_value(SessionStatus::EndedByAdmin).unwrap(),
            json!("ended_by_admin")
        );
        assert_eq!(SessionStatus::Ended.to_string(), "ended");
    }
}
