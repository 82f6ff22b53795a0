//! Signs of life between messages: who is typing, and how far each side has read. All of it
//! lives on the session item, which the client poll and the agent's transcript read already
//! read, so showing it costs no request; writing it is one conditional write, throttled.

use super::{ChatError, ChatService, ClientAccess};
use crate::ids::{ClientToken, MessageId, SessionId};
use crate::model::Sender;
use crate::sign_in::auth::VerifiedAdmin;
use crate::store::items::{MessageItem, SessionItem};
use crate::store::{TypingWrite, Typist};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// At most one typing write per side per this long: more calls answer 200 and write nothing.
pub const TYPING_WRITE_INTERVAL: Duration = Duration::seconds(3);
/// A typing signal shows for this long after it was written (longer than the write interval,
/// so that someone typing steadily shows as typing throughout).
pub const TYPING_SHOWN_FOR: Duration = Duration::seconds(5);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingReceipt {
    pub session_id: SessionId,
    /// True when an earlier signal within the write interval already covers this one.
    pub throttled: bool,
}

/// Whether a typing signal written at `at` still shows at `now`.
pub fn shows_typing(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    at.is_some_and(|at| at <= now && now - at < TYPING_SHOWN_FOR)
}

impl ChatService {
    /// The customer types (`POST /api/chat/typing`): one conditional write, refused for a
    /// wrong token or an ended session exactly as a send is.
    pub async fn customer_typing(&self, access: &ClientAccess) -> Result<TypingReceipt, ChatError> {
        let token = self.presented_token(access)?;
        let hash = token.map(ClientToken::hash);
        let typist = Typist::Customer {
            token_hash: hash.as_ref(),
            // Migration mode: the first token a session sees is required from then on.
            remember_token: !self.config.require_client_token && token.is_some(),
        };
        self.record_typing(&access.session_id, typist, |session| {
            self.check_client(session, token)
        })
        .await
    }

    /// An agent types a reply (`POST /api/admin/chat/typing`).
    pub async fn support_typing(
        &self,
        _admin: &VerifiedAdmin,
        session_id: &SessionId,
    ) -> Result<TypingReceipt, ChatError> {
        self.record_typing(session_id, Typist::Support, |_| Ok(()))
            .await
    }

    /// The write, and what its refusal means: the session as it was tells a wrong token or an
    /// ended session (refused as a send is) from a signal within the interval (a quiet 200).
    async fn record_typing(
        &self,
        session_id: &SessionId,
        typist: Typist<'_>,
        authorize: impl FnOnce(&SessionItem) -> Result<(), ChatError>,
    ) -> Result<TypingReceipt, ChatError> {
        let now = self.now();
        let written = self
            .store
            .record_typing(session_id, typist, now, now - TYPING_WRITE_INTERVAL)
            .await?;
        let throttled = match written {
            TypingWrite::Written => false,
            TypingWrite::Refused(None) => return Err(ChatError::SessionNotFound),
            TypingWrite::Refused(Some(session)) => {
                authorize(&session)?;
                if !session.status.is_active() {
                    return Err(ChatError::SessionNotFound);
                }
                true
            }
        };
        Ok(TypingReceipt {
            session_id: session_id.clone(),
            throttled,
        })
    }

    /// After an agent's transcript read: the agents have now seen up to the newest user
    /// message it returned. One conditional write that only moves forward; none when nothing
    /// is new.
    pub(crate) async fn mark_read_by_support(
        &self,
        session: &SessionItem,
        returned: &[MessageItem],
    ) -> Result<(), ChatError> {
        let newest_user = returned
            .iter()
            .filter(|m| m.sender == Sender::User)
            .map(|m| m.message_id.seq())
            .max();
        if let Some(seq) = newest_user {
            if session.support_read_up_to.is_none_or(|known| seq > known) {
                self.store
                    .advance_support_read(&session.session_id, seq)
                    .await?;
            }
        }
        Ok(())
    }
}

/// A stored sequence number as the message id the clients know.
pub fn message_id(seq: Option<u64>) -> Option<MessageId> {
    seq.filter(|&seq| seq > 0).map(MessageId::from_seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_shows_for_five_seconds() {
        let at = DateTime::UNIX_EPOCH;
        assert!(shows_typing(Some(at), at));
        assert!(shows_typing(Some(at), at + Duration::milliseconds(4_999)));
        assert!(!shows_typing(Some(at), at + Duration::seconds(5)));
        assert!(!shows_typing(None, at));
    }
}
