//! Ratings: the client rates its ended session, once, in one transaction (the conditional
//! write and its count).

use super::analytics::{counted, rated};
use super::{authorize_client, ChatError, ChatService, ClientAccess};
use crate::ids::{ClientToken, SessionId};
use crate::model::{Feedback, Rating};
use crate::store::{RateOutcome, RateSession};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RatingReceipt {
    pub rating_id: String,
    pub session_id: SessionId,
    pub rating: u8,
    pub feedback: Option<String>,
}

impl ChatService {
    /// The user rates an ended session, once.
    pub async fn rate_session(
        &self,
        access: &ClientAccess,
        rating: Rating,
        feedback: Option<Feedback>,
    ) -> Result<RatingReceipt, ChatError> {
        let token = self.presented_token(access)?;
        let token_hash = token.map(ClientToken::hash);
        let rated_at = self.now();
        let stats = counted(&access.session_id, rated_at, rated(rating.stars()));
        let outcome = self
            .store
            .rate_session(RateSession {
                session: &access.session_id,
                token_hash: token_hash.as_ref(),
                rating: rating.stars(),
                feedback: feedback.as_ref().map(Feedback::as_str),
                rated_at,
                tokenless: token.is_none(),
                stats: &stats,
            })
            .await?;
        match outcome {
            RateOutcome::Rated => Ok(RatingReceipt {
                rating_id: format!("rating_{}", access.session_id),
                session_id: access.session_id.clone(),
                rating: rating.stars(),
                feedback: feedback.map(|f| f.as_str().to_owned()),
            }),
            // Refused: say why only to the session's owner, and only when it is true that the
            // session was rated; everything else looks like a missing session.
            RateOutcome::Refused(Some(old))
                if token.is_none_or(|t| authorize_client(&old, t).is_ok())
                    && !old.status.is_active()
                    && old.rating.is_some() =>
            {
                Err(ChatError::RatingExists)
            }
            RateOutcome::Refused(_) => Err(ChatError::SessionNotFound),
        }
    }
}
