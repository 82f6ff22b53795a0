//! Canned-reply requests into validated drafts and ids; refusals are 400 `VALIDATION_ERROR`
//! naming the field.

use super::parse::Fields;
use super::{ApiError, InputCode};
use crate::chat::canned::{is_canned_response_id, CannedDraft, Shortcut, MAX_CANNED_CHARS};
use crate::model::MessageText;
use serde_json::{Map, Value};

/// `POST /api/admin/canned-responses` and `PUT /api/admin/canned-responses/{id}`: `shortcut`
/// and `text`, both required. The text obeys the message rules, at most [`MAX_CANNED_CHARS`]
/// (or the message limit, if lower).
pub fn draft(
    object: &Map<String, Value>,
    max_message_chars: usize,
) -> Result<CannedDraft, ApiError> {
    let fields = Fields::new(object, InputCode::ValidationError);
    let shortcut = Shortcut::parse(fields.required_str("shortcut")?).ok_or_else(|| {
        fields.error(
            "shortcut",
            "shortcut must be 1 to 32 lower-case letters, digits or '-'",
        )
    })?;
    let text = MessageText::parse(
        fields.required_str("text")?,
        MAX_CANNED_CHARS.min(max_message_chars),
    )
    .map_err(|e| fields.error("text", format!("text {e}")))?;
    Ok(CannedDraft {
        shortcut,
        text: text.as_str().to_owned(),
    })
}

/// The `{id}` of a canned-reply URL.
pub fn response_id(raw: Option<String>) -> Result<String, ApiError> {
    raw.filter(|id| is_canned_response_id(id)).ok_or_else(|| {
        ApiError::bad_request(
            InputCode::ValidationError,
            "id",
            "id must be a canned response id (cr_ and 16 hex digits)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(body: Value) -> Option<&'static str> {
        match draft(body.as_object().unwrap(), 5_000) {
            Err(ApiError::BadRequest { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn drafts_are_refused_field_by_field() {
        assert_eq!(field_of(json!({"text": "hi"})), Some("shortcut"));
        assert_eq!(
            field_of(json!({"shortcut": "Hi", "text": "hi"})),
            Some("shortcut")
        );
        assert_eq!(field_of(json!({"shortcut": "hi"})), Some("text"));
        assert_eq!(
            field_of(json!({"shortcut": "hi", "text": "  "})),
            Some("text")
        );
        let long = "x".repeat(MAX_CANNED_CHARS + 1);
        assert_eq!(
            field_of(json!({"shortcut": "hi", "text": long})),
            Some("text")
        );
        let ok = draft(
            json!({"shortcut": "hi", "text": " Hello! "})
                .as_object()
                .unwrap(),
            5_000,
        );
        assert_eq!(ok.unwrap().text, "Hello!");
    }
}
