//! The team's canned replies: shared by every agent, each with a unique shortcut the
//! dashboard's reply box offers after `/`. Every change is one transaction with its activity
//! entry; a shortcut is unique and the number of replies capped by the write itself.

use super::{ChatError, ChatService};
use crate::clock::as_iso8601;
use crate::ids::{hex, random_bytes};
use crate::sign_in::auth::VerifiedAdmin;
use crate::store::items::{ActivityAction, ActivityItem, ActivitySubject, CannedResponseItem};
use crate::store::CannedWrite;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// How many canned replies the team may have: with [`MAX_CANNED_CHARS`], all of them fit in
/// one Query page (100 x at most about 8 KB < DynamoDB's 1 MB), so listing them is one request.
pub const MAX_CANNED_RESPONSES: u64 = 100;
/// Longest canned text (and never more than a message may be).
pub const MAX_CANNED_CHARS: usize = 2_000;

/// `^[a-z0-9-]{1,32}$`: what an agent types after `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

impl Shortcut {
    pub fn parse(text: &str) -> Option<Self> {
        ((1..=32).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A canned reply's id: `cr_` and 64 random bits in hex.
pub fn is_canned_response_id(text: &str) -> bool {
    text.strip_prefix("cr_")
        .is_some_and(|rest| rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A reply as an agent submits it (validated).
#[derive(Debug, Clone)]
pub struct CannedDraft {
    pub shortcut: Shortcut,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CannedResponse {
    pub id: String,
    pub shortcut: String,
    pub text: String,
    pub updated_by: String,
    #[serde(with = "as_iso8601")]
    pub updated_at: DateTime<Utc>,
}

impl From<CannedResponseItem> for CannedResponse {
    fn from(item: CannedResponseItem) -> Self {
        Self {
            id: item.response_id,
            shortcut: item.shortcut,
            text: item.text,
            updated_by: item.updated_by,
            updated_at: item.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CannedResponses {
    /// By shortcut.
    pub responses: Vec<CannedResponse>,
    /// The most the team may have.
    pub limit: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedCannedResponse {
    pub id: String,
    pub deleted: bool,
}

fn refusal(write: CannedWrite) -> Result<(), ChatError> {
    match write {
        CannedWrite::Done => Ok(()),
        CannedWrite::ShortcutTaken => Err(ChatError::ShortcutTaken),
        CannedWrite::Full => Err(ChatError::TooManyCannedResponses),
        CannedWrite::Changed => Err(ChatError::CannedResponseNotFound),
    }
}

impl ChatService {
    /// Every canned reply, by shortcut: one Query.
    pub async fn canned_responses(&self) -> Result<CannedResponses, ChatError> {
        let mut responses: Vec<CannedResponse> = self
            .store
            .canned_responses()
            .await?
            .into_iter()
            .map(CannedResponse::from)
            .collect();
        responses.sort_by(|a, b| a.shortcut.cmp(&b.shortcut));
        Ok(CannedResponses {
            responses,
            limit: MAX_CANNED_RESPONSES,
        })
    }

    pub async fn create_canned_response(
        &self,
        admin: &VerifiedAdmin,
        draft: CannedDraft,
    ) -> Result<CannedResponse, ChatError> {
        let id = format!("cr_{}", hex(&random_bytes::<8>()));
        let item = CannedResponseItem::new(
            &id,
            draft.shortcut.as_str(),
            &draft.text,
            &admin.admin_id,
            self.now(),
        );
        let logged = self.canned_activity(admin, ActivityAction::CreatedCannedResponse, &item);
        refusal(
            self.store
                .create_canned_response(&item, &logged, MAX_CANNED_RESPONSES)
                .await?,
        )?;
        Ok(item.into())
    }

    /// Replaces a reply's shortcut and text.
    pub async fn update_canned_response(
        &self,
        admin: &VerifiedAdmin,
        id: &str,
        draft: CannedDraft,
    ) -> Result<CannedResponse, ChatError> {
        let draft = &draft;
        self.change_canned_response(id, |old| async move {
            let new = CannedResponseItem::new(
                id,
                draft.shortcut.as_str(),
                &draft.text,
                &admin.admin_id,
                self.now(),
            );
            let logged = self.canned_activity(admin, ActivityAction::UpdatedCannedResponse, &new);
            let write = self
                .store
                .update_canned_response(&old, &new, &logged)
                .await?;
            Ok((write, new.into()))
        })
        .await
    }

    pub async fn delete_canned_response(
        &self,
        admin: &VerifiedAdmin,
        id: &str,
    ) -> Result<DeletedCannedResponse, ChatError> {
        self.change_canned_response(id, |old| async move {
            let logged = self.canned_activity(admin, ActivityAction::DeletedCannedResponse, &old);
            let write = self.store.delete_canned_response(&old, &logged).await?;
            let deleted = DeletedCannedResponse {
                id: id.to_owned(),
                deleted: true,
            };
            Ok((write, deleted))
        })
        .await
    }

    /// Reads a reply and writes its change, conditioned on the reply as read. A concurrent
    /// change of its shortcut is read again and retried (a few times at most); a reply deleted
    /// meanwhile is not found.
    async fn change_canned_response<T, Change>(
        &self,
        id: &str,
        change: impl Fn(CannedResponseItem) -> Change,
    ) -> Result<T, ChatError>
    where
        Change: std::future::Future<Output = Result<(CannedWrite, T), ChatError>>,
    {
        for _ in 0..3 {
            let old = self
                .store
                .canned_response(id)
                .await?
                .ok_or(ChatError::CannedResponseNotFound)?;
            match change(old).await? {
                (CannedWrite::Changed, _) => continue,
                (write, done) => return refusal(write).map(|()| done),
            }
        }
        Err(ChatError::Contention)
    }

    fn canned_activity(
        &self,
        admin: &VerifiedAdmin,
        action: ActivityAction,
        item: &CannedResponseItem,
    ) -> ActivityItem {
        let now = self.now();
        ActivityItem::new(
            &admin.admin_id,
            ActivitySubject::CannedResponses,
            action,
            json!({ "responseId": item.response_id, "shortcut": item.shortcut }),
            now,
            self.expiry_from(now),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_short_lower_case_words() {
        for good in ["hi", "a", "refund-policy", "x2", &"a".repeat(32)] {
            assert!(Shortcut::parse(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "Hi",
            "with space",
            "under_score",
            "é",
            "/hi",
            &"a".repeat(33),
        ] {
            assert!(Shortcut::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ids_are_recognised() {
        assert!(is_canned_response_id("cr_0123456789abcdef"));
        assert!(!is_canned_response_id("cr_0123"));
        assert!(!is_canned_response_id("xx_0123456789abcdef"));
    }
}
