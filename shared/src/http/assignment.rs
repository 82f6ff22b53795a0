//! The team's requests: who holds a session (claim, transfer, release bodies), a reply's
//! `force`, and the list's `?assignedTo=` filter. Every refusal names its field.

use super::parse::Fields;
use super::{ApiError, InputCode};
use crate::chat::SessionList;
use crate::ids::{is_admin_id, SessionId};
use crate::sign_in::auth::VerifiedAdmin;
use serde_json::{Map, Value};

/// `POST /api/admin/chat/claim` and `/release`: `{sessionId}`.
pub fn session_of(object: &Map<String, Value>) -> Result<SessionId, ApiError> {
    Fields::new(object, InputCode::ValidationError).session_id("sessionId")
}

/// `POST /api/admin/chat/transfer`: `{sessionId, toAdminId}`.
pub fn transfer(object: &Map<String, Value>) -> Result<(SessionId, String), ApiError> {
    let fields = Fields::new(object, InputCode::ValidationError);
    let session_id = fields.session_id("sessionId")?;
    let to = fields.required_str("toAdminId")?;
    if !is_admin_id(to) {
        return Err(fields.error("toAdminId", "toAdminId is not an admin id"));
    }
    Ok((session_id, to.to_owned()))
}

/// A reply's `force` (absent: false): send even though another agent holds the session.
pub fn force(object: &Map<String, Value>) -> Result<bool, ApiError> {
    let fields = Fields::new(object, InputCode::InvalidMessageData);
    match fields.value("force") {
        None => Ok(false),
        Some(Value::Bool(force)) => Ok(*force),
        Some(_) => Err(fields.error("force", "force must be true or false")),
    }
}

/// The list's `?waiting=` and `?assignedTo=me|none` (one index per list, so not both).
pub fn session_list(
    waiting: bool,
    assigned_to: Option<String>,
    admin: &VerifiedAdmin,
) -> Result<SessionList, ApiError> {
    let invalid =
        |message: &str| ApiError::bad_request(InputCode::ValidationError, "assignedTo", message);
    let held = match assigned_to.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("me") => Some(SessionList::HeldBy(admin.admin_id.clone())),
        Some("none") => Some(SessionList::Unassigned),
        Some(_) => return Err(invalid("assignedTo must be me or none")),
    };
    match (waiting, held) {
        (true, Some(_)) => Err(invalid("assignedTo cannot be combined with waiting=true")),
        (true, None) => Ok(SessionList::Waiting),
        (false, Some(list)) => Ok(list),
        (false, None) => Ok(SessionList::All),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> VerifiedAdmin {
        VerifiedAdmin {
            admin_id: "adm_1".into(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            token_generation: 0,
        }
    }

    #[test]
    fn the_list_filter_is_one_listing_at_a_time() {
        let list = |waiting, assigned: Option<&str>| {
            session_list(waiting, assigned.map(str::to_owned), &admin())
        };
        assert_eq!(list(false, None).unwrap(), SessionList::All);
        assert_eq!(list(false, Some("")).unwrap(), SessionList::All);
        assert_eq!(list(true, None).unwrap(), SessionList::Waiting);
        assert_eq!(
            list(false, Some("me")).unwrap(),
            SessionList::HeldBy("adm_1".into())
        );
        assert_eq!(list(false, Some("none")).unwrap(), SessionList::Unassigned);
        for (waiting, assigned) in [
            (false, "Me"),
            (false, "adm_1"),
            (true, "me"),
            (true, "none"),
        ] {
            assert!(
                list(waiting, Some(assigned)).is_err(),
                "{waiting} {assigned}"
            );
        }
    }

    #[test]
    fn force_is_a_boolean_and_absent_means_no() {
        let body = |value: Value| {
            serde_json::json!({ "force": value })
                .as_object()
                .unwrap()
                .clone()
        };
        assert!(!force(&Map::new()).unwrap());
        assert!(!force(&body(Value::Null)).unwrap());
        assert!(force(&body(Value::Bool(true))).unwrap());
        assert!(force(&body("true".into())).is_err());
    }
}
