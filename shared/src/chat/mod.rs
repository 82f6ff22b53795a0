//! The business rules: clients start sessions and talk in them; support answers active
//! sessions only; every state change is one conditional write or one transaction.

pub mod delivery;

use crate::admin_auth::VerifiedAdmin;
use crate::clock::{iso8601, parse_iso8601, Clock};
use crate::config::Config;
use crate::ids::random_bytes;
use crate::ids::{ClientToken, IdempotencyKey, MessageId, SessionId, TokenHash};
use crate::model::{Feedback, MessageText, Rating, Sender, SessionStatus, UserInfo};
use crate::store::items::{
    admin_activity_partition, ActivityAction, ActivityItem, MessagePreview, ACTIVITY_ALL_PARTITION,
    ACTIVITY_SK_PREFIX,
};
use crate::store::items::{
    idempotency_sk, message_sk, session_pk, EndReason, Entity, IdempotencyItem, KeyOwner,
    MessageItem, SessionItem,
};
use crate::store::{ActivityFilter, PageCursor, PollWrite};
use crate::store::{
    AppendOutcome, ChatStore, ConditionalUpdate, EndSession, MessageFilter, NewMessage,
    RateSession, StoreError,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use thiserror::Error;

/// Most support messages one poll returns; the rest come with the next poll (`hasMore`).
pub const POLL_LIMIT: usize = 50;

/// Optimistic attempts per send. Every failed attempt means another send committed, so this
/// only runs out when dozens of writers hit one session at the same instant.
const MAX_SEND_ATTEMPTS: usize = 25;

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a client proves which session it may use: the id and the `X-Chat-Token` it was given.
#[derive(Debug, Clone)]
pub struct ClientAccess {
    pub session_id: SessionId,
    pub token: Option<ClientToken>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub session_id: Option<SessionId>,
    pub user_info: UserInfo,
}

#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub text: MessageText,
    /// The sender's own `messageId`: a retry with the same one returns the first result.
    pub idempotency_key: Option<IdempotencyKey>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedSession {
    pub session_id: String,
    pub status: SessionStatus,
    pub created_at: String,
    /// Shown once: only its hash is stored.
    pub client_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub message_id: String,
    pub status: &'static str,
    pub timestamp: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMessage {
    pub message_id: String,
    pub message: String,
    pub sender: Sender,
    pub timestamp: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolledMessages {
    pub messages: Vec<WireMessage>,
    pub session_ended: bool,
    pub session_status: SessionStatus,
    /// Why it ended (`user`, `idle`, `admin`); null while active.
    pub end_reason: Option<EndReason>,
    pub has_more: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RatingReceipt {
    pub rating_id: String,
    pub session_id: String,
    pub rating: u8,
    pub feedback: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndedSession {
    pub session_id: String,
    pub status: SessionStatus,
    pub end_time: String,
    /// Seconds from start to end.
    pub duration: i64,
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

/// How a session is being ended, and what the ending write must also check.
struct Ending<'a> {
    reason: EndReason,
    /// `user`, `system` (idle) or the agent's id.
    ended_by: &'a str,
    token_hash: Option<&'a TokenHash>,
    /// The client presented no token (migration mode).
    tokenless: bool,
    activity: Option<&'a ActivityItem>,
}

impl<'a> Ending<'a> {
    fn new(reason: EndReason, ended_by: &'a str) -> Self {
        Self {
            reason,
            ended_by,
            token_hash: None,
            tokenless: false,
            activity: None,
        }
    }
}

/// Who writes a message, and what they must prove.
enum Author<'a> {
    Client(Option<&'a ClientToken>),
    Support { admin_id: &'a str },
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

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn expiry_from(&self, at: DateTime<Utc>) -> i64 {
        (at + Duration::days(i64::from(self.config.retention_days))).timestamp()
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

    pub async fn check_health(&self) -> Result<(), ChatError> {
        Ok(self.store.ping().await?)
    }

    /// A client starts a session: the only way a session ever comes to exist.
    pub async fn start_session(&self, new: NewSession) -> Result<StartedSession, ChatError> {
        let session_id = new.session_id.unwrap_or_else(SessionId::generate);
        let token = ClientToken::generate();
        let start_time = iso8601(self.now());
        let item = SessionItem::open(&session_id, new.user_info, &token.hash(), &start_time);
        if !self.store.create_session(&item).await? {
            return Err(ChatError::SessionExists);
        }
        Ok(StartedSession {
            session_id: session_id.to_string(),
            status: SessionStatus::Active,
            created_at: start_time,
            client_token: token.as_str().to_owned(),
        })
    }

    pub async fn send_user_message(
        &self,
        access: &ClientAccess,
        message: OutgoingMessage,
    ) -> Result<SentMessage, ChatError> {
        let token = self.presented_token(access)?;
        self.append(&access.session_id, Author::Client(token), message)
            .await
    }

    /// A support agent's reply, logged (`SENT_MESSAGE`) in the same transaction.
    pub async fn send_support_message(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
        message: OutgoingMessage,
    ) -> Result<SentMessage, ChatError> {
        let author = Author::Support {
            admin_id: &admin.admin_id,
        };
        self.append(session_id, author, message).await
    }

    async fn append(
        &self,
        session_id: &SessionId,
        author: Author<'_>,
        message: OutgoingMessage,
    ) -> Result<SentMessage, ChatError> {
        let (sender, owner) = match author {
            Author::Client(_) => (Sender::User, KeyOwner::Customer),
            Author::Support { admin_id } => (Sender::Admin, KeyOwner::Agent(admin_id)),
        };
        let idem_sk = message
            .idempotency_key
            .as_ref()
            .map(|key| idempotency_sk(owner, key));
        let text_hash = text_hash(message.text.as_str());
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
                    let snapshot = self
                        .store
                        .read_for_send(session_id, idem_sk.as_deref())
                        .await?;
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

            // Never earlier than the newest message: transcript times follow commit order.
            let now = self.now();
            let now_text = iso8601(now);
            let timestamp = match &session.last_message {
                Some(last) if last.timestamp > now_text => last.timestamp.clone(),
                _ => now_text,
            };
            let message_id = MessageId::from_seq(session.last_seq).next();
            let expires_at = self.expiry_from(now);
            let pk = session_pk(session_id);
            let item = MessageItem {
                pk: pk.clone(),
                sk: message_sk(message_id),
                entity: Entity::Message,
                message_id: message_id.to_string(),
                sender,
                message: message.text.as_str().to_owned(),
                timestamp: timestamp.clone(),
                admin_id: match author {
                    Author::Support { admin_id } => Some(admin_id.to_owned()),
                    Author::Client(_) => None,
                },
                expires_at,
            };
            let idempotency = idem_sk.as_ref().map(|sk| IdempotencyItem {
                pk: pk.clone(),
                sk: sk.clone(),
                entity: Entity::Idempotency,
                message_id: message_id.to_string(),
                timestamp: timestamp.clone(),
                text_hash: Some(text_hash.clone()),
                expires_at,
            });
            let outcome = self
                .store
                .append_message(
                    session_id,
                    NewMessage {
                        seen_last_seq: session.last_seq,
                        message: item,
                        idempotency,
                        activity: match author {
                            Author::Support { admin_id } => Some(self.activity(
                                admin_id,
                                session_id,
                                ActivityAction::SentMessage,
                                json!({ "messageId": message_id.to_string() }),
                            )),
                            Author::Client(_) => None,
                        },
                        token_presented: matches!(author, Author::Client(Some(_)))
                            && !session.token_presented,
                    },
                )
                .await?;
            match outcome {
                AppendOutcome::Committed => {
                    return Ok(SentMessage {
                        message_id: message_id.to_string(),
                        status: "sent",
                        timestamp,
                    })
                }
                AppendOutcome::SessionChanged(current) => known_session = current.map(|s| *s),
                AppendOutcome::DuplicateKey => {
                    let sk = idem_sk.as_deref().unwrap_or_default();
                    let first = self.store.get_idempotency(session_id, sk).await?;
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

    /// What the client poll returns: the support messages no poll has delivered yet (oldest
    /// first, at most [`POLL_LIMIT`]) and the session state. The session item is read first and
    /// alone: with nothing undelivered (the common case) that is the whole poll, and a wrong
    /// token never costs a message read. Otherwise one bounded Query reads from the delivery
    /// marker, whatever the app did with its cursor (see [`delivery`]), and one conditional
    /// write records how far it got (with the client's presence, when due).
    pub async fn poll_support_messages(
        &self,
        access: &ClientAccess,
        after: Option<MessageId>,
    ) -> Result<PolledMessages, ChatError> {
        let token = self.presented_token(access)?;
        let session_id = &access.session_id;
        let session = self
            .store
            .get_session(session_id)
            .await?
            .ok_or(ChatError::SessionNotFound)?;
        self.check_client(&session, token)?;
        let plan = delivery::plan_poll(after.map(MessageId::seq), &session);
        let (mut messages, mut has_more, mut write) = (Vec::new(), false, PollWrite::default());
        if plan.read {
            let range = self
                .store
                .read_support_range(
                    session_id,
                    MessageId::from_seq(plan.start + 1),
                    MessageId::from_seq(session.last_seq),
                    POLL_LIMIT as i32,
                )
                .await?;
            has_more = !range.complete;
            let returned: Vec<u64> = range.messages.iter().map(message_seq).collect();
            write.delivery = delivery::reached(&plan, &session, &returned, range.scanned_to)
                .map(|reached| (session.delivery(), reached));
            messages = range.messages;
        }
        let now = self.now();
        if self.presence_due(&session, now) && session.status.is_active() {
            write.seen_at = Some(iso8601(now));
        }
        write.token_presented = self.remember_token(&session, token);
        if !self.store.record_poll(session_id, &write).await? {
            // Another poll of this session delivered meanwhile (two polls overlapping): these
            // messages are its to deliver; the next poll continues after them.
            (messages, has_more) = (Vec::new(), true);
        }
        Ok(PolledMessages {
            messages: messages.into_iter().map(WireMessage::from).collect(),
            session_ended: !session.status.is_active(),
            session_status: session.status,
            end_reason: session.end_reason,
            has_more,
        })
    }

    /// A poll refreshes the client's presence at most every quarter of the idle timeout, so
    /// most polls write nothing and the sweep still never ends a session that is polling.
    fn presence_due(&self, session: &SessionItem, now: DateTime<Utc>) -> bool {
        let quarter = self.config.idle_timeout / 4;
        session
            .last_seen_at
            .as_deref()
            .and_then(parse_iso8601)
            .is_none_or(|seen| (now - seen).to_std().is_ok_and(|age| age >= quarter))
    }

    /// The session a partition read returned; it sorts after every message, so it is missing
    /// only when DynamoDB stopped at its 1 MB page first (then one extra read) or it does not exist.
    async fn session_of_page(
        &self,
        session_id: &SessionId,
        session: Option<SessionItem>,
        truncated: bool,
    ) -> Result<SessionItem, ChatError> {
        match session {
            Some(session) => Ok(session),
            None if truncated => self
                .store
                .get_session(session_id)
                .await?
                .ok_or(ChatError::SessionNotFound),
            None => Err(ChatError::SessionNotFound),
        }
    }

    /// The client leaves: the session ends (status `ended`, reason `user`) and can be rated.
    /// Leaving an ended session answers how it ended, so a retry after a lost answer is fine.
    pub async fn leave_session(&self, access: &ClientAccess) -> Result<EndedSession, ChatError> {
        let token = self.presented_token(access)?;
        let session = self
            .store
            .get_session(&access.session_id)
            .await?
            .ok_or(ChatError::SessionNotFound)?;
        self.check_client(&session, token)?;
        if !session.status.is_active() {
            // Left already (or ended otherwise): a retried leave gets the same answer.
            return ended_before(session).ok_or(ChatError::SessionNotFound);
        }
        let token_hash = token.map(ClientToken::hash);
        let ending = Ending {
            token_hash: token_hash.as_ref(),
            tokenless: token.is_none(),
            ..Ending::new(EndReason::User, "user")
        };
        self.end(session, ending)
            .await?
            .ok_or(ChatError::SessionNotFound)
    }

    /// Ends an active session the one way every ending goes ([`ChatStore::end_session`]).
    /// `None` when its conditions refused it (it ended meanwhile, or the client came back).
    async fn end(
        &self,
        session: SessionItem,
        ending: Ending<'_>,
    ) -> Result<Option<EndedSession>, ChatError> {
        let now = self.now();
        let session_id = SessionId::parse(&session.session_id).ok_or(ChatError::SessionNotFound)?;
        let end_time = iso8601(now);
        let committed = self
            .store
            .end_session(EndSession {
                session: &session_id,
                reason: ending.reason,
                ended_by: ending.ended_by,
                end_time: &end_time,
                expires_at: self.expiry_from(now),
                token_hash: ending.token_hash,
                tokenless: ending.tokenless,
                unseen_since: None,
                activity: ending.activity,
            })
            .await?;
        let status = crate::store::lifecycle::status_after(ending.reason);
        Ok(committed.then(|| ended_session(SessionItem { status, ..session }, now)))
    }

    /// Ends every session whose client has not been heard from for the idle timeout (status
    /// `ended`, reason `idle`), reading the presence index, never the table. Each end is the
    /// same conditional transaction as a leave, also conditioned on the client still being
    /// unseen: a send or poll racing the sweep either lands first (and the session stays) or
    /// finds the session ended. Returns how many it ended.
    pub async fn end_idle_sessions(&self, max: usize) -> Result<usize, ChatError> {
        let idle = Duration::from_std(self.config.idle_timeout).unwrap_or(Duration::MAX);
        let cutoff = iso8601(self.now() - idle);
        let mut ended = 0;
        let candidates = self
            .store
            .unseen_sessions(&cutoff, max.min(1000) as i32)
            .await?;
        let now = self.now();
        let end_time = iso8601(now);
        for session_id in candidates {
            // No read first: the write's own conditions (still active, still unseen) decide.
            let done = self
                .store
                .end_session(EndSession {
                    session: &session_id,
                    reason: EndReason::Idle,
                    ended_by: "system",
                    end_time: &end_time,
                    expires_at: self.expiry_from(now),
                    token_hash: None,
                    tokenless: false,
                    unseen_since: Some(&cutoff),
                    activity: None,
                })
                .await?;
            ended += usize::from(done);
        }
        Ok(ended)
    }

    /// The user rates an ended session, once.
    pub async fn rate_session(
        &self,
        access: &ClientAccess,
        rating: Rating,
        feedback: Option<Feedback>,
    ) -> Result<RatingReceipt, ChatError> {
        let token = self.presented_token(access)?;
        let token_hash = token.map(ClientToken::hash);
        let rated_at = iso8601(self.now());
        let outcome = self
            .store
            .rate_session(RateSession {
                session: &access.session_id,
                token_hash: token_hash.as_ref(),
                rating: rating.stars(),
                feedback: feedback.as_ref().map(Feedback::as_str),
                rated_at: &rated_at,
                tokenless: token.is_none(),
            })
            .await?;
        match outcome {
            ConditionalUpdate::Done(session) => Ok(RatingReceipt {
                rating_id: format!("rating_{}", session.session_id),
                session_id: session.session_id,
                rating: rating.stars(),
                feedback: session.feedback,
            }),
            // Refused: say why only to the session's owner, and only when it is true that the
            // session was rated; everything else looks like a missing session.
            ConditionalUpdate::Refused(Some(old))
                if token.is_none_or(|t| authorize_client(&old, t).is_ok())
                    && !old.status.is_active()
                    && old.rating.is_some() =>
            {
                Err(ChatError::RatingExists)
            }
            ConditionalUpdate::Refused(_) => Err(ChatError::SessionNotFound),
        }
    }
}

/// Most items one admin list returns.
pub const MAX_PAGE: i32 = 100;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveSessionView {
    pub session_id: String,
    pub user_info: UserInfo,
    pub start_time: String,
    pub status: SessionStatus,
    pub last_message: Option<MessagePreview>,
    pub message_count: u64,
    /// When the oldest unanswered user message was sent; null once support has answered.
    pub waiting_since: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveSessions {
    pub sessions: Vec<ActiveSessionView>,
    pub total_active: u64,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptMessage {
    pub message_id: String,
    pub message: String,
    pub sender: Sender,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetails {
    pub session_id: String,
    pub user_info: UserInfo,
    pub status: SessionStatus,
    pub start_time: String,
    pub end_time: Option<String>,
    pub ended_by: Option<String>,
    pub end_reason: Option<EndReason>,
    pub message_count: u64,
    pub waiting_since: Option<String>,
    pub rating: Option<u8>,
    pub feedback: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    pub session: SessionDetails,
    pub messages: Vec<TranscriptMessage>,
    /// More than one response's worth of messages follow the last one returned.
    pub has_more: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub activity_id: String,
    pub admin_id: String,
    pub action: ActivityAction,
    pub session_id: String,
    pub details: serde_json::Value,
    pub timestamp: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityLog {
    pub entries: Vec<ActivityEntry>,
    pub next_cursor: Option<String>,
}

impl ChatService {
    fn activity(
        &self,
        admin_id: &str,
        session_id: &SessionId,
        action: ActivityAction,
        details: serde_json::Value,
    ) -> ActivityItem {
        let now = self.now();
        let suffix: String = random_bytes::<6>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let activity_id = format!("{}#{suffix}", iso8601(now));
        ActivityItem {
            pk: session_pk(session_id),
            sk: format!("{ACTIVITY_SK_PREFIX}{activity_id}"),
            gsi1pk: admin_activity_partition(admin_id),
            gsi1sk: activity_id.clone(),
            gsi2pk: ACTIVITY_ALL_PARTITION.to_owned(),
            gsi2sk: activity_id.clone(),
            entity: Entity::Activity,
            activity_id,
            admin_id: admin_id.to_owned(),
            action,
            session_id: session_id.to_string(),
            details,
            timestamp: iso8601(now),
            expires_at: self.expiry_from(now),
        }
    }

    /// The admin list: active sessions, newest first (or only those awaiting an answer,
    /// longest wait first), one Query on a sparse index, and the exact number of active
    /// sessions from one counter read: two requests whatever the number of sessions.
    pub async fn list_active_sessions(
        &self,
        limit: i32,
        cursor: Option<&PageCursor>,
        waiting_only: bool,
    ) -> Result<ActiveSessions, ChatError> {
        let page = if waiting_only {
            self.store.waiting_sessions(limit, cursor).await?
        } else {
            self.store.active_sessions(limit, cursor).await?
        };
        let total_active = self.store.active_count().await?;
        Ok(ActiveSessions {
            sessions: page
                .items
                .into_iter()
                .map(|s| ActiveSessionView {
                    session_id: s.session_id,
                    user_info: s.user_info,
                    start_time: s.start_time,
                    status: s.status,
                    last_message: s.last_message,
                    message_count: s.last_seq,
                    waiting_since: s.waiting_since,
                })
                .collect(),
            total_active,
            next_cursor: page.next.map(|c| c.as_str().to_owned()),
        })
    }

    /// A session's transcript (both sides) after the cursor, and its details. Opening it
    /// (no cursor) is logged as `VIEWED_SESSION`; the dashboard's polls are not.
    pub async fn session_transcript(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
        after: Option<MessageId>,
    ) -> Result<Transcript, ChatError> {
        let mut page = self
            .store
            .read_after(session_id, after, MessageFilter::All)
            .await?;
        let session = self
            .session_of_page(session_id, page.session.take(), page.truncated)
            .await?;
        if after.is_none() {
            let viewed = self.activity(
                &admin.admin_id,
                session_id,
                ActivityAction::ViewedSession,
                json!({}),
            );
            self.store.put_activity(&viewed).await?;
        }
        Ok(Transcript {
            session: SessionDetails {
                session_id: session.session_id,
                user_info: session.user_info,
                status: session.status,
                start_time: session.start_time,
                end_time: session.end_time,
                ended_by: session.ended_by,
                end_reason: session.end_reason,
                message_count: session.last_seq,
                waiting_since: session.waiting_since,
                rating: session.rating,
                feedback: session.feedback,
            },
            messages: page
                .messages
                .into_iter()
                .map(|m| TranscriptMessage {
                    message_id: m.message_id,
                    message: m.message,
                    sender: m.sender,
                    timestamp: m.timestamp,
                    admin_id: m.admin_id,
                })
                .collect(),
            has_more: page.truncated,
        })
    }

    /// A support agent ends an active session: status `ended_by_admin`, reason `admin`,
    /// logged (`ENDED_SESSION`) in the same transaction. The acting admin is the verified one.
    pub async fn end_session_by_admin(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
    ) -> Result<EndedSession, ChatError> {
        let session = self
            .store
            .get_session(session_id)
            .await?
            .filter(|s| s.status.is_active())
            .ok_or(ChatError::SessionNotFound)?;
        let duration = ended_session(session.clone(), self.now()).duration;
        let activity = self.activity(
            &admin.admin_id,
            session_id,
            ActivityAction::EndedSession,
            json!({ "duration": duration }),
        );
        // Not committed: it was ended by someone else between the read and the write.
        let ending = Ending {
            activity: Some(&activity),
            ..Ending::new(EndReason::Admin, &admin.admin_id)
        };
        self.end(session, ending)
            .await?
            .ok_or(ChatError::SessionNotFound)
    }

    /// The activity log, newest first.
    pub async fn activity_log(
        &self,
        filter: &ActivityFilter,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<ActivityLog, ChatError> {
        let page = self.store.activity(filter, limit, cursor).await?;
        Ok(ActivityLog {
            entries: page
                .items
                .into_iter()
                .map(|a| ActivityEntry {
                    activity_id: a.activity_id,
                    admin_id: a.admin_id,
                    action: a.action,
                    session_id: a.session_id,
                    details: a.details,
                    timestamp: a.timestamp,
                })
                .collect(),
            next_cursor: page.next.map(|c| c.as_str().to_owned()),
        })
    }
}

fn text_hash(text: &str) -> String {
    crate::ids::hex(&Sha256::digest(text.as_bytes()))
}

/// A stored message's number in its session (its id is written from it, so it always parses).
fn message_seq(message: &MessageItem) -> u64 {
    MessageId::parse(&message.message_id).map_or(0, MessageId::seq)
}

fn authorize_client(session: &SessionItem, token: &ClientToken) -> Result<(), ChatError> {
    if TokenHash::from_stored(session.token_hash.clone()).matches(token) {
        Ok(())
    } else {
        Err(ChatError::SessionNotFound)
    }
}

/// An ended session as it ended (from its stored end time).
fn ended_before(session: SessionItem) -> Option<EndedSession> {
    let end = session.end_time.as_deref().and_then(parse_iso8601)?;
    Some(ended_session(session, end))
}

fn ended_session(session: SessionItem, end: DateTime<Utc>) -> EndedSession {
    let duration = parse_iso8601(&session.start_time)
        .map(|start| (end - start).num_seconds().max(0))
        .unwrap_or(0);
    EndedSession {
        session_id: session.session_id,
        status: session.status,
        end_time: iso8601(end),
        duration,
    }
}
