//! Sending a message: a client's or an agent's, one transaction, drafted again from the
//! session DynamoDB hands back while other senders commit first.

use super::analytics::{counted, first_response, support_message, user_message};
use super::assignment::sent_details;
use super::{ChatError, ChatService, ClientAccess};
use crate::clock::as_iso8601;
use crate::ids::{ClientToken, IdempotencyKey, MessageId, SessionId};
use crate::model::{MessageText, Sender};
use crate::sign_in::auth::VerifiedAdmin;
use crate::store::items::{
    ActivityAction, IdempotencyItem, KeyOwner, MessageItem, SenderKey, SessionItem,
};
use crate::store::{AppendOutcome, NewMessage, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Optimistic attempts per send. Every failed attempt means another send committed, so this
/// only runs out when dozens of writers hit one session at the same instant.
const MAX_SEND_ATTEMPTS: usize = 25;

#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub text: MessageText,
    /// The sender's own `messageId`: a retry with the same one returns the first result.
    pub idempotency_key: Option<IdempotencyKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub message_id: MessageId,
    pub status: &'static str,
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMessage {
    pub message_id: MessageId,
    pub message: String,
    pub sender: Sender,
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
}

impl From<MessageItem> for WireMessage {
    fn from(item: MessageItem) -> Self {
        Self {
            message_id: item.message_id,
            message: item.message,
            sender: item.sender,
            timestamp: item.timestamp,
        }
    }
}

impl From<IdempotencyItem> for SentMessage {
    fn from(item: IdempotencyItem) -> Self {
        Self {
            message_id: item.message_id,
            status: "sent",
            timestamp: item.timestamp,
        }
    }
}

/// Who writes a message, and what they must prove.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Author<'a> {
    Client(Option<&'a ClientToken>),
    Support { admin_id: &'a str },
}

impl<'a> Author<'a> {
    fn sender(self) -> Sender {
        match self {
            Self::Client(_) => Sender::User,
            Self::Support { .. } => Sender::Admin,
        }
    }

    fn key_owner(self) -> KeyOwner<'a> {
        match self {
            Self::Client(_) => KeyOwner::Customer,
            Self::Support { admin_id } => KeyOwner::Agent(admin_id),
        }
    }

    fn admin_id(self) -> Option<&'a str> {
        match self {
            Self::Client(_) => None,
            Self::Support { admin_id } => Some(admin_id),
        }
    }
}

/// A message ready to commit as the session's next one, with its idempotency record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    pub message: MessageItem,
    pub idempotency: Option<IdempotencyItem>,
}

/// The message `author` would add to `session` at `now`, decided without any I/O: the next
/// number after the newest message, and a time never earlier than the newest message's, so
/// that transcript times follow commit order even when this instance's clock is behind.
pub(crate) fn draft_message(
    session_id: &SessionId,
    session: &SessionItem,
    author: Author<'_>,
    outgoing: &OutgoingMessage,
    now: DateTime<Utc>,
    expires_at: i64,
) -> Draft {
    let newest = session.last_message.as_ref().map(|last| last.timestamp);
    let timestamp = newest.filter(|newest| *newest > now).unwrap_or(now);
    let id = MessageId::from_seq(session.last_seq).next();
    let idempotency = outgoing.idempotency_key.as_ref().map(|key| {
        let key = SenderKey {
            owner: author.key_owner(),
            key,
        };
        let hash = crate::ids::sha256_hex(outgoing.text.as_str());
        IdempotencyItem::new(session_id, key, id, timestamp, hash, expires_at)
    });
    let message = MessageItem::new(
        session_id,
        id,
        author.sender(),
        outgoing.text.as_str().to_owned(),
        timestamp,
        author.admin_id().map(str::to_owned),
        expires_at,
    );
    Draft {
        message,
        idempotency,
    }
}

impl ChatService {
    pub async fn send_user_message(
        &self,
        access: &ClientAccess,
        message: OutgoingMessage,
    ) -> Result<SentMessage, ChatError> {
        let token = self.presented_token(access)?;
        self.append(&access.session_id, Author::Client(token), message, None)
            .await
    }

    /// A support agent's reply, logged (`SENT_MESSAGE`) in the same transaction, which also
    /// claims an unassigned session; in another agent's session only when `force`d.
    pub async fn send_support_message(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
        message: OutgoingMessage,
        force: bool,
    ) -> Result<SentMessage, ChatError> {
        let author = Author::Support {
            admin_id: &admin.admin_id,
        };
        self.append(session_id, author, message, Some((admin, force)))
            .await
    }

    /// Reads the session (and the key's first result), drafts, commits; when another send
    /// committed first, drafts again from the session DynamoDB handed back.
    async fn append(
        &self,
        session_id: &SessionId,
        author: Author<'_>,
        outgoing: OutgoingMessage,
        support: Option<(&VerifiedAdmin, bool)>,
    ) -> Result<SentMessage, ChatError> {
        let key = outgoing.idempotency_key.as_ref().map(|key| SenderKey {
            owner: author.key_owner(),
            key,
        });
        let text_hash = crate::ids::sha256_hex(outgoing.text.as_str());
        // The same key again is a retry only with the same text.
        let first_result = |first: IdempotencyItem| match &first.text_hash {
            Some(hash) if *hash != text_hash => Err(ChatError::IdempotencyKeyReused),
            _ => Ok(SentMessage::from(first)),
        };
        let mut known_session: Option<SessionItem> = None;

        for _ in 0..MAX_SEND_ATTEMPTS {
            let session = match known_session.take() {
                Some(session) => session,
                None => {
                    let snapshot = self.store.read_for_send(session_id, key).await?;
                    let session = snapshot.session.ok_or(ChatError::SessionNotFound)?;
                    if let Author::Client(token) = author {
                        self.check_client(&session, token)?;
                    }
                    if let Some(first) = snapshot.previous {
                        return first_result(first);
                    }
                    session
                }
            };
            if !session.status.is_active() {
                return Err(ChatError::SessionNotFound);
            }
            let assignment = support
                .map(|(admin, force)| self.send_assignment(&session, admin, force))
                .transpose()?;

            let now = self.now();
            let draft = draft_message(
                session_id,
                &session,
                author,
                &outgoing,
                now,
                self.expiry_from(now),
            );
            let sent = SentMessage {
                message_id: draft.message.message_id,
                status: "sent",
                timestamp: draft.message.timestamp,
            };
            let (counts, first_response) = match author {
                Author::Client(_) => (user_message(), None),
                Author::Support { .. } => {
                    let first_response = first_response(&session, draft.message.timestamp);
                    (support_message(first_response), first_response)
                }
            };
            let stats = counted(session_id, draft.message.timestamp, counts);
            let activity = author.admin_id().map(|admin_id| {
                let details = sent_details(sent.message_id, assignment.as_ref());
                self.activity(admin_id, session_id, ActivityAction::SentMessage, details)
            });
            let new = NewMessage {
                seen_last_seq: session.last_seq,
                message: draft.message,
                idempotency: draft.idempotency,
                activity,
                token_presented: matches!(author, Author::Client(Some(_)))
                    && !session.token_presented,
                holder: assignment.map(|a| a.guard),
                first_response: first_response.is_some(),
                stats,
                // As a poll: presence moves an index key, so only when due (no hot partition).
                presence_due: matches!(author, Author::Client(_))
                    && self.presence_due(&session, now),
            };
            match self.store.append_message(session_id, new).await? {
                AppendOutcome::Committed => return Ok(sent),
                AppendOutcome::SessionChanged(current) => known_session = current.map(|s| *s),
                AppendOutcome::DuplicateKey => {
                    let first = match key {
                        Some(key) => self.store.get_idempotency(session_id, key).await?,
                        None => None,
                    };
                    return first.map_or_else(
                        || {
                            Err(StoreError::Request(
                                "idempotency item vanished after a conflict".into(),
                            )
                            .into())
                        },
                        first_result,
                    );
                }
            }
        }
        Err(ChatError::Contention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_iso8601;
    use crate::model::UserInfo;
    use crate::store::items::MessagePreview;

    fn session_at(time: &str) -> (SessionId, SessionItem) {
        let id = SessionId::parse("session-123").unwrap();
        let token = ClientToken::generate();
        let session = SessionItem::open(&id, UserInfo::default(), &token.hash(), at(time));
        (id, session)
    }

    fn outgoing(text: &str, key: Option<&str>) -> OutgoingMessage {
        OutgoingMessage {
            text: MessageText::parse(text, 100).unwrap(),
            idempotency_key: key.and_then(IdempotencyKey::parse),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        parse_iso8601(text).unwrap()
    }

    #[test]
    fn a_draft_is_the_next_message_of_the_session_at_the_current_time() {
        let (id, mut session) = session_at("2026-11-28T10:00:00.000Z");
        session.last_seq = 41;
        let now = at("2026-11-28T10:05:00.250Z");
        let draft = draft_message(
            &id,
            &session,
            Author::Client(None),
            &outgoing("hi", None),
            now,
            7,
        );
        assert_eq!(draft.message.message_id.to_string(), "msg_000000000042");
        assert_eq!(draft.message.sender, Sender::User);
        assert_eq!(draft.message.timestamp, at("2026-11-28T10:05:00.250Z"));
        assert_eq!(
            (draft.message.admin_id, draft.message.expires_at),
            (None, 7)
        );
        assert_eq!(draft.idempotency, None);
    }

    #[test]
    fn a_draft_is_never_earlier_than_the_newest_message() {
        let (id, mut session) = session_at("2026-11-28T10:00:00.000Z");
        session.last_seq = 1;
        session.last_message = Some(MessagePreview {
            message_id: MessageId::from_seq(1),
            message: "first".into(),
            sender: Sender::Admin,
            timestamp: at("2026-11-28T10:05:01.000Z"),
        });
        // This instance's clock is behind the one that wrote the newest message.
        let behind = at("2026-11-28T10:05:00.999Z");
        let draft = draft_message(
            &id,
            &session,
            Author::Client(None),
            &outgoing("hi", None),
            behind,
            0,
        );
        assert_eq!(draft.message.timestamp, at("2026-11-28T10:05:01.000Z"));
        let ahead = at("2026-11-28T10:05:01.001Z");
        let draft = draft_message(
            &id,
            &session,
            Author::Client(None),
            &outgoing("hi", None),
            ahead,
            0,
        );
        assert_eq!(draft.message.timestamp, at("2026-11-28T10:05:01.001Z"));
    }

    #[test]
    fn a_support_draft_names_its_agent_and_keeps_the_key_per_agent() {
        let (id, session) = session_at("2026-11-28T10:00:00.000Z");
        let now = at("2026-11-28T10:00:01.000Z");
        let author = Author::Support { admin_id: "adm_1" };
        let draft = draft_message(
            &id,
            &session,
            author,
            &outgoing("hello", Some("k-1")),
            now,
            9,
        );
        assert_eq!(draft.message.sender, Sender::Admin);
        assert_eq!(draft.message.admin_id.as_deref(), Some("adm_1"));
        let key = draft.idempotency.expect("a keyed send records its key");
        assert_eq!(key.pk, draft.message.pk);
        assert_eq!(
            (key.message_id.to_string(), key.timestamp),
            (
                "msg_000000000001".to_owned(),
                at("2026-11-28T10:00:01.000Z")
            )
        );
        assert_eq!(
            key.text_hash.as_deref(),
            Some(crate::ids::sha256_hex("hello").as_str())
        );
        let customer = draft_message(
            &id,
            &session,
            Author::Client(None),
            &outgoing("hello", Some("k-1")),
            now,
            9,
        );
        assert_ne!(
            customer.idempotency.unwrap().sk,
            key.sk,
            "an agent's key never collides with the customer's"
        );
    }
}
