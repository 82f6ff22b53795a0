//! Sessions: a client starts one; it ends when the client leaves, when an agent ends it, or
//! when the client has gone quiet (the idle sweep), always through the one ending transaction
//! ([`ChatStore::end_session`](crate::store::ChatStore::end_session)). Agents list the active ones.

use super::analytics::{counted, session_created, session_ended};
use super::{ChatError, ChatService, ClientAccess};
use crate::clock::as_iso8601;
use crate::ids::{ClientToken, SessionId, TokenHash};
use crate::model::{SessionStatus, UserInfo};
use crate::sign_in::auth::VerifiedAdmin;
use crate::store::items::{
    ActivityAction, ActivityItem, Assignee, EndReason, EndedBy, MessagePreview, SessionItem,
};
use crate::store::sessions::status_after;
use crate::store::{EndSession, PageCursor};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

/// Most items one admin list returns.
pub const MAX_PAGE: i32 = 100;

#[derive(Debug, Clone)]
pub struct NewSession {
    pub session_id: Option<SessionId>,
    pub user_info: UserInfo,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedSession {
    pub session_id: SessionId,
    pub status: SessionStatus,
    #[serde(with = "as_iso8601")]
    pub created_at: DateTime<Utc>,
    /// Shown once: only its hash is stored.
    pub client_token: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndedSession {
    pub session_id: SessionId,
    pub status: SessionStatus,
    #[serde(with = "as_iso8601")]
    pub end_time: DateTime<Utc>,
    /// Seconds from start to end.
    pub duration: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveSessionView {
    pub session_id: SessionId,
    pub user_info: UserInfo,
    #[serde(with = "as_iso8601")]
    pub start_time: DateTime<Utc>,
    pub status: SessionStatus,
    pub last_message: Option<MessagePreview>,
    pub message_count: u64,
    /// When the oldest unanswered user message was sent; null once support has answered.
    #[serde(with = "as_iso8601::option")]
    pub waiting_since: Option<DateTime<Utc>>,
    /// The agent who holds the session; null: unassigned.
    pub assigned_to: Option<Assignee>,
}

impl From<SessionItem> for ActiveSessionView {
    fn from(s: SessionItem) -> Self {
        Self {
            session_id: s.session_id,
            user_info: s.user_info,
            start_time: s.start_time,
            status: s.status,
            last_message: s.last_message,
            message_count: s.last_seq,
            waiting_since: s.waiting_since,
            assigned_to: s.assigned_to,
        }
    }
}

/// Which active sessions the admin list shows (each one Query on its own sparse index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionList {
    /// Every active session, newest first.
    All,
    /// Those awaiting an answer, longest wait first.
    Waiting,
    /// Those this agent holds, newest first.
    HeldBy(String),
    /// Those nobody holds, newest first.
    Unassigned,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveSessions {
    pub sessions: Vec<ActiveSessionView>,
    pub total_active: u64,
    pub next_cursor: Option<String>,
}

/// How a session is being ended, and what the ending write must also check.
struct Ending<'a> {
    reason: EndReason,
    ended_by: EndedBy,
    token_hash: Option<&'a TokenHash>,
    /// The client presented no token (migration mode).
    tokenless: bool,
    activity: Option<&'a ActivityItem>,
}

impl Ending<'_> {
    fn new(reason: EndReason, ended_by: EndedBy) -> Self {
        Self {
            reason,
            ended_by,
            token_hash: None,
            tokenless: false,
            activity: None,
        }
    }
}

impl ChatService {
    /// A client starts a session: the only way a session ever comes to exist.
    pub async fn start_session(&self, new: NewSession) -> Result<StartedSession, ChatError> {
        let session_id = new.session_id.unwrap_or_else(SessionId::generate);
        let token = ClientToken::generate();
        let start_time = self.now();
        let guest = new.user_info.is_guest == Some(true);
        let item = SessionItem::open(&session_id, new.user_info, &token.hash(), start_time);
        let stats = counted(&session_id, start_time, session_created(guest));
        if !self.store.create_session(&item, &stats).await? {
            return Err(ChatError::SessionExists);
        }
        Ok(StartedSession {
            session_id,
            status: SessionStatus::Active,
            created_at: start_time,
            client_token: token.as_str().to_owned(),
        })
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
            ..Ending::new(EndReason::User, EndedBy::User)
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
        let stats = counted(
            &session.session_id,
            now,
            session_ended(ending.reason, now - session.start_time),
        );
        let committed = self
            .store
            .end_session(EndSession {
                session: &session.session_id,
                reason: ending.reason,
                ended_by: &ending.ended_by,
                end_time: now,
                expires_at: self.expiry_from(now),
                token_hash: ending.token_hash,
                tokenless: ending.tokenless,
                unseen_since: None,
                activity: ending.activity,
                stats: &stats,
            })
            .await?;
        let status = status_after(ending.reason);
        Ok(committed.then(|| ended_session(SessionItem { status, ..session }, now)))
    }

    /// Ends every session whose client has not been heard from for the idle timeout (status
    /// `ended`, reason `idle`), reading the presence index, never the table. Each end is the
    /// same conditional transaction as a leave, also conditioned on the client still being
    /// unseen: a send or poll racing the sweep either lands first (and the session stays) or
    /// finds the session ended. The candidates are read first (one `BatchGetItem` per 100,
    /// only when there are any) for the start time the ended chat's duration is counted
    /// from. Returns how many it ended.
    pub async fn end_idle_sessions(&self, max: usize) -> Result<usize, ChatError> {
        let idle = Duration::from_std(self.config.idle_timeout).unwrap_or(Duration::MAX);
        let cutoff = self.now() - idle;
        let mut ended = 0;
        let candidates = self
            .store
            .unseen_sessions(cutoff, max.min(1000) as i32)
            .await?;
        if candidates.is_empty() {
            return Ok(0);
        }
        let sessions = self.store.sessions_by_id(&candidates).await?;
        let now = self.now();
        let by_sweep = EndedBy::System;
        for session in sessions.iter().filter(|s| s.status.is_active()) {
            let stats = counted(
                &session.session_id,
                now,
                session_ended(EndReason::Idle, now - session.start_time),
            );
            // The write's own conditions (still active, still unseen) decide.
            let done = self
                .store
                .end_session(EndSession {
                    session: &session.session_id,
                    reason: EndReason::Idle,
                    ended_by: &by_sweep,
                    end_time: now,
                    expires_at: self.expiry_from(now),
                    token_hash: None,
                    tokenless: false,
                    unseen_since: Some(cutoff),
                    activity: None,
                    stats: &stats,
                })
                .await?;
            ended += usize::from(done);
        }
        Ok(ended)
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
            ..Ending::new(EndReason::Admin, EndedBy::Agent(admin.admin_id.clone()))
        };
        self.end(session, ending)
            .await?
            .ok_or(ChatError::SessionNotFound)
    }

    /// The admin list: active sessions, newest first (or only those awaiting an answer,
    /// longest wait first): one Query for a page of keys on a sparse index, then one
    /// BatchGetItem for those sessions and the active-session counter: two requests whatever
    /// the number of sessions.
    pub async fn list_active_sessions(
        &self,
        limit: i32,
        cursor: Option<&PageCursor>,
        list: &SessionList,
    ) -> Result<ActiveSessions, ChatError> {
        let listed = match list {
            SessionList::All => self.store.active_sessions(limit, cursor).await?,
            SessionList::Waiting => self.store.waiting_sessions(limit, cursor).await?,
            SessionList::HeldBy(admin_id) => {
                let holder = Some(admin_id.as_str());
                self.store.assigned_sessions(holder, limit, cursor).await?
            }
            SessionList::Unassigned => self.store.assigned_sessions(None, limit, cursor).await?,
        };
        let (page, total_active) = (listed.sessions, listed.active_count);
        Ok(ActiveSessions {
            sessions: page
                .items
                .into_iter()
                .map(ActiveSessionView::from)
                .collect(),
            total_active,
            next_cursor: page.next.map(|c| c.as_str().to_owned()),
        })
    }
}

/// An ended session as it ended (from its stored end time).
fn ended_before(session: SessionItem) -> Option<EndedSession> {
    let end = session.end_time?;
    Some(ended_session(session, end))
}

fn ended_session(session: SessionItem, end: DateTime<Utc>) -> EndedSession {
    // Clocks of different instances may disagree by a little: never a negative duration.
    let duration = (end - session.start_time).num_seconds().max(0);
    EndedSession {
        session_id: session.session_id,
        status: session.status,
        end_time: end,
        duration,
    }
}
