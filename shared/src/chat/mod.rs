//! The business rules: clients start sessions and talk in them; support answers active
//! sessions only; every state change is one conditional write or one transaction.
//!
//! One module per domain noun, each with its commands, its answers and its rules:
//! [`sessions`] (start, leave, end, the idle sweep, the admin list), [`messages`] (sending),
//! [`polls`] (the client poll, deciding with [`delivery`]), [`transcripts`] (an agent's view
//! of one session), [`ratings`] and [`activity`] (the agents' log). This file holds the service, its errors and
//! how a client proves which session it may use.

pub mod activity;
pub mod analytics;
pub mod assignment;
pub mod canned;
pub mod delivery;
pub mod messages;
pub mod polls;
pub mod ratings;
pub mod realtime;
pub mod sessions;
pub mod summary;
pub mod transcripts;
pub mod typing;

pub use activity::{ActivityEntry, ActivityLog};
pub use assignment::{ActiveAgents, AgentSummary, Assignment};
pub use canned::{CannedDraft, CannedResponse, CannedResponses, DeletedCannedResponse, Shortcut};
pub use messages::{OutgoingMessage, SentMessage, WireMessage};
pub use polls::{PolledMessages, POLL_LIMIT};
pub use ratings::RatingReceipt;
pub use sessions::{
    ActiveSessionView, ActiveSessions, EndedSession, NewSession, SessionList, StartedSession,
    MAX_PAGE,
};
pub use summary::AnalyticsSummary;
pub use transcripts::{SessionDetails, Transcript, TranscriptMessage};
pub use typing::TypingReceipt;

use crate::clock::Clock;
use crate::config::Config;
use crate::ids::{ClientToken, SessionId, TokenHash};
use crate::store::items::SessionItem;
use crate::store::{ChatStore, StoreError};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ChatError {
    #[error("authentication token required")]
    NoToken,
    #[error("X-Chat-Token is blank or malformed")]
    MalformedToken,
    /// Also what a wrong token gets, so nobody learns which session ids exist.
    #[error("chat session not found or inactive")]
    SessionNotFound,
    #[error("a chat session with this id already exists")]
    SessionExists,
    #[error("rating already submitted for this session")]
    RatingExists,
    #[error("too many simultaneous messages in this session, please retry")]
    Contention,
    /// The same `messageId` with another text: a client bug, not a retry.
    #[error("this messageId was already used for a different message")]
    IdempotencyKeyReused,
    /// Another agent holds the session (named in the error's details).
    #[error("this session is assigned to another agent")]
    AlreadyAssigned(crate::store::items::Assignee),
    #[error("toAdminId is not an active agent")]
    InvalidTransferTarget,
    /// Canned replies: another reply has this shortcut.
    #[error("another canned response already uses this shortcut")]
    ShortcutTaken,
    #[error("canned response not found")]
    CannedResponseNotFound,
    #[error("the team already has the most canned responses allowed")]
    TooManyCannedResponses,
    /// The push channel is not deployed here: clients poll.
    #[error("push is not available, poll instead")]
    PushUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a client proves which session it may use: the id and the `X-Chat-Token` it was given.
#[derive(Debug, Clone)]
pub struct ClientAccess {
    pub session_id: SessionId,
    pub token: Option<ClientToken>,
}

#[derive(Clone)]
pub struct ChatService {
    store: ChatStore,
    clock: Arc<dyn Clock>,
    config: Config,
}

impl ChatService {
    pub fn new(store: ChatStore, clock: Arc<dyn Clock>, config: Config) -> Self {
        Self {
            store,
            clock,
            config,
        }
    }

    pub fn store(&self) -> &ChatStore {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Now, at the precision times are stored with, so that a time this service decides and
    /// the same time read back compare equal.
    pub fn now(&self) -> DateTime<Utc> {
        crate::clock::to_millis(self.clock.now())
    }

    /// When DynamoDB's TTL may delete what is written (or ends) at `at`.
    fn expiry_from(&self, at: DateTime<Utc>) -> i64 {
        (at + Duration::days(i64::from(self.config.retention_days))).timestamp()
    }

    pub async fn check_health(&self) -> Result<(), ChatError> {
        Ok(self.store.ping().await?)
    }

    /// The token a client call must carry. Without one the call is refused, unless ops have
    /// switched the requirement off while old app builds are phased out.
    fn presented_token<'a>(
        &self,
        access: &'a ClientAccess,
    ) -> Result<Option<&'a ClientToken>, ChatError> {
        match &access.token {
            Some(token) => Ok(Some(token)),
            None if self.config.require_client_token => Err(ChatError::NoToken),
            None => {
                tracing::warn!(
                    session_id = %access.session_id,
                    "client call without X-Chat-Token accepted (REQUIRE_CLIENT_TOKEN is off)"
                );
                Ok(None)
            }
        }
    }

    /// Whether the presented token (or, in migration mode, none) lets the client act on this
    /// session. Once a session has seen its token, it is required there in either mode.
    fn check_client(
        &self,
        session: &SessionItem,
        token: Option<&ClientToken>,
    ) -> Result<(), ChatError> {
        match token {
            Some(token) => authorize_client(session, token),
            None if session.token_presented => Err(ChatError::NoToken),
            None => Ok(()),
        }
    }

    /// In migration mode, the first token a session sees is remembered (one write, once).
    fn remember_token(&self, session: &SessionItem, token: Option<&ClientToken>) -> bool {
        !self.config.require_client_token && token.is_some() && !session.token_presented
    }
}

fn authorize_client(session: &SessionItem, token: &ClientToken) -> Result<(), ChatError> {
    if TokenHash::from_stored(session.token_hash.clone()).matches(token) {
        Ok(())
    } else {
        Err(ChatError::SessionNotFound)
    }
}
