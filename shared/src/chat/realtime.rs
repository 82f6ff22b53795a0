//! Who may open a push connection: single-use tickets for a customer's session or an agent,
//! and the connection they open (docs/asyncapi.yaml). Each step is one conditional write or
//! one transaction.

use super::{ChatError, ChatService, ClientAccess};
use crate::ids::{PushTicket, SessionId};
use crate::sign_in::auth::VerifiedAdmin;
use crate::store::items::{ConnectionItem, PushHolder, TicketItem};
use crate::store::{ConnectOutcome, StoreError, ViewOutcome};
use serde::Serialize;

/// How long a ticket opens a connection: enough for a slow network's connect, short enough
/// that a leaked URL (logs, history) is worthless by the time anyone reads it.
pub const TICKET_SECONDS: i64 = 60;
/// API Gateway ends every connection after 2 hours; its item goes a little later (TTL).
pub const CONNECTION_SECONDS: i64 = 2 * 3600 + 300;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedTicket {
    pub ticket: String,
    /// The WebSocket URL to open, the ticket included.
    pub url: String,
    pub expires_in: i64,
}

/// Why `$connect` is refused: the socket never opens and nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum ConnectRefusal {
    /// Malformed, unknown, used or expired: 401.
    #[error("the ticket is not valid")]
    BadTicket,
    /// The session ended or the agent was deactivated since the ticket was issued: 403.
    #[error("the ticket's holder may no longer connect")]
    NotAllowed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ChatService {
    /// A ticket for the customer of an active session (`POST /api/chat/realtime/ticket`):
    /// the session read and the token checked as for a poll, then one conditional put.
    pub async fn issue_customer_ticket(
        &self,
        access: &ClientAccess,
    ) -> Result<IssuedTicket, ChatError> {
        let url = self.push_url()?;
        // Push is for app versions that have a token: never in migration mode without one.
        let token = access.token.as_ref().ok_or(ChatError::NoToken)?;
        let session = self
            .store
            .get_session(&access.session_id)
            .await?
            .ok_or(ChatError::SessionNotFound)?;
        self.check_client(&session, Some(token))?;
        if !session.status.is_active() {
            return Err(ChatError::SessionNotFound);
        }
        let holder = PushHolder::Customer {
            session_id: session.session_id,
        };
        self.issue_ticket(&holder, url).await
    }

    /// A ticket for a signed-in agent (`POST /api/admin/realtime/ticket`), bound to the token
    /// generation their token has: a deactivation or password reset spends it.
    pub async fn issue_agent_ticket(
        &self,
        admin: &VerifiedAdmin,
    ) -> Result<IssuedTicket, ChatError> {
        let url = self.push_url()?;
        let holder = PushHolder::Agent {
            admin_id: admin.admin_id.clone(),
            generation: admin.token_generation,
        };
        self.issue_ticket(&holder, url).await
    }

    fn push_url(&self) -> Result<String, ChatError> {
        self.config
            .push_url
            .clone()
            .ok_or(ChatError::PushUnavailable)
    }

    async fn issue_ticket(
        &self,
        holder: &PushHolder,
        url: String,
    ) -> Result<IssuedTicket, ChatError> {
        let ticket = PushTicket::generate();
        let expires_at = self.now().timestamp() + TICKET_SECONDS;
        let item = TicketItem::new(&ticket.hash(), holder, expires_at);
        if !self.store.put_ticket(&item).await? {
            return Err(ChatError::Store(StoreError::Request(
                "a fresh ticket's key was taken: the random source repeats".into(),
            )));
        }
        Ok(IssuedTicket {
            url: format!("{url}?ticket={}", ticket.as_str()),
            ticket: ticket.as_str().to_owned(),
            expires_in: TICKET_SECONDS,
        })
    }

    /// `$connect`: reads the ticket, then ONE transaction spends it (a conditional delete: it
    /// works once, before it expires), checks the session is active or the agent still may
    /// work, and stores the connection. The holder comes from the ticket only; a refused
    /// connect leaves the ticket as it was.
    pub async fn open_push_connection(
        &self,
        ticket: Option<&str>,
        connection_id: &str,
    ) -> Result<PushHolder, ConnectRefusal> {
        let ticket = ticket
            .and_then(PushTicket::parse)
            .ok_or(ConnectRefusal::BadTicket)?;
        let now = self.now();
        let hash = ticket.hash();
        let found = self
            .store
            .ticket(&hash)
            .await?
            .filter(|t| t.expires_at > now.timestamp())
            .ok_or(ConnectRefusal::BadTicket)?;
        let holder = found.holder.holder().ok_or(ConnectRefusal::BadTicket)?;
        let connection = ConnectionItem::new(
            connection_id,
            &holder,
            now,
            now.timestamp() + CONNECTION_SECONDS,
        );
        match self
            .store
            .open_connection(&hash, &connection, now.timestamp())
            .await?
        {
            ConnectOutcome::Opened => Ok(holder),
            ConnectOutcome::TicketSpent => Err(ConnectRefusal::BadTicket),
            ConnectOutcome::HolderRefused => Err(ConnectRefusal::NotAllowed),
        }
    }

    /// An agent's `view` frame: this connection also gets the events of `session` (the chat
    /// its dashboard shows), as its holder's do; `None` stops that.
    pub async fn view_push_session(
        &self,
        connection_id: &str,
        session: Option<&SessionId>,
    ) -> Result<ViewOutcome, ChatError> {
        Ok(self.store.view_session(connection_id, session).await?)
    }

    /// `$disconnect`: forgets the connection (best effort: API Gateway does not always send
    /// it; the item's TTL and the consumer's `GoneException` clean up the rest).
    pub async fn close_push_connection(&self, connection_id: &str) -> Result<(), ChatError> {
        self.store.close_connection(connection_id).await?;
        Ok(())
    }
}
