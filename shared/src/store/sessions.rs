//! A session's life in the table: start, presence, rating, the listings of active sessions,
//! and the one way every session ends, each start and end keeping the active-session counter
//! exact in the same transaction.

use super::items::*;
use super::keys::*;
use super::stats::StatsUpdate;
use super::{built, decode, n, s, session_key, ChatStore, Item, StoreError};
use crate::clock::iso8601;
use crate::ids::{SessionId, TokenHash};
use crate::model::SessionStatus;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// How a session ends. Every way (the customer leaves, an agent ends it, the idle sweep) is
/// this one transaction: the session leaves every index, gets its expiry, the counter drops.
pub struct EndSession<'a> {
    pub session: &'a SessionId,
    pub reason: EndReason,
    pub ended_by: &'a EndedBy,
    pub end_time: DateTime<Utc>,
    pub expires_at: i64,
    /// The client's token must match (the customer ends their own session).
    pub token_hash: Option<&'a TokenHash>,
    /// Migration mode, no token presented: refused once the session has seen its token.
    pub tokenless: bool,
    /// Idle sweep: only if the client has still not been seen since this time.
    pub unseen_since: Option<DateTime<Utc>>,
    /// Logged in the same transaction (an agent's action).
    pub activity: Option<&'a ActivityItem>,
    /// Counted in the same transaction (the end and its duration, on the end's day).
    pub stats: &'a StatsUpdate,
}

/// What a client poll writes on the session, all in one conditional write.
#[derive(Debug, Default)]
pub struct PollWrite {
    /// Move the delivery marker from the first to the second (refused if it moved meanwhile).
    pub delivery: Option<(DeliveryMarker, DeliveryMarker)>,
    /// The client is present now: this time.
    pub seen_at: Option<DateTime<Utc>>,
    /// The client presented its token (remembered so it is required from now on).
    pub token_presented: bool,
    /// The newest support message this poll returned first (written with the marker).
    pub newest_delivered: Option<u64>,
}

pub(super) fn counter_key() -> Item {
    HashMap::from([
        ("PK".to_owned(), s(COUNTER_PK)),
        ("SK".to_owned(), s(ACTIVE_COUNT_SK)),
    ])
}

/// The active-session count a counter item holds (never negative).
pub(super) fn active_count_in(counter: &Item) -> u64 {
    counter
        .get("activeSessions")
        .and_then(|value| value.as_n().ok()?.parse::<i64>().ok())
        .map_or(0, |count| count.max(0) as u64)
}

pub struct RateSession<'a> {
    pub session: &'a SessionId,
    pub token_hash: Option<&'a TokenHash>,
    /// Migration mode, no token presented: refused once the session has seen its token.
    pub tokenless: bool,
    pub rating: u8,
    pub feedback: Option<&'a str>,
    pub rated_at: DateTime<Utc>,
    /// Counted in the same transaction (on the rating's day).
    pub stats: &'a StatsUpdate,
}

#[derive(Debug)]
pub enum RateOutcome {
    Rated,
    /// The condition failed; the session as it was, if it exists.
    Refused(Option<Box<SessionItem>>),
}

impl ChatStore {
    pub async fn get_session(
        &self,
        session: &SessionId,
    ) -> Result<Option<SessionItem>, StoreError> {
        self.get(session_pk(session), SESSION_SK).await
    }

    /// Records the rating of an ended session, once, and counts it: one transaction (the
    /// conditional update of the session and the counter's `ADD`).
    pub async fn rate_session(&self, rate: RateSession<'_>) -> Result<RateOutcome, StoreError> {
        let mut condition =
            "#status IN (:ended, :ended_by_admin) AND attribute_not_exists(rating)".to_owned();
        let mut update = "SET rating = :rating, ratedAt = :at".to_owned();
        let mut request = Update::builder()
            .table_name(&self.table)
            .set_key(Some(session_key(rate.session)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":ended", s(SessionStatus::Ended.as_str()))
            .expression_attribute_values(":ended_by_admin", s(SessionStatus::EndedByAdmin.as_str()))
            .expression_attribute_values(":rating", n(rate.rating))
            .expression_attribute_values(":at", s(iso8601(rate.rated_at)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(feedback) = rate.feedback {
            update.push_str(", feedback = :feedback");
            request = request.expression_attribute_values(":feedback", s(feedback));
        }
        if let Some(hash) = rate.token_hash {
            condition.push_str(" AND tokenHash = :token");
            request = request.expression_attribute_values(":token", s(hash.as_str()));
        }
        if rate.tokenless {
            condition.push_str(" AND attribute_not_exists(tokenPresented)");
        }
        let session_update = built(
            request
                .update_expression(update)
                .condition_expression(condition)
                .build(),
        )?;
        let writes = vec![
            TransactWriteItem::builder().update(session_update).build(),
            self.add_to_stats(rate.stats)?,
        ];
        let err = match self.transact(writes).await {
            Ok(()) => return Ok(RateOutcome::Rated),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            if let Some(reason) = cancelled
                .cancellation_reasons()
                .first()
                .filter(|r| r.code() == Some("ConditionalCheckFailed"))
            {
                let old = reason.item().cloned().filter(|item| !item.is_empty());
                return Ok(RateOutcome::Refused(
                    old.map(decode).transpose()?.map(Box::new),
                ));
            }
        }
        Err(err.into())
    }

    fn move_active_count(&self, by: i64) -> Result<TransactWriteItem, StoreError> {
        let update = built(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(counter_key()))
                .update_expression("ADD activeSessions :by")
                .expression_attribute_values(":by", n(by))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Stores a new session unless one with the same id exists (then false), and counts it.
    pub async fn create_session(
        &self,
        session: &SessionItem,
        stats: &StatsUpdate,
    ) -> Result<bool, StoreError> {
        let writes = vec![
            self.put_if_new(serde_dynamo::to_item(session)?)?,
            self.move_active_count(1)?,
            self.add_to_stats(stats)?,
        ];
        self.transact_if(writes).await
    }

    /// Ends an active session (see [`EndSession`]); false, with nothing written, when its
    /// conditions refuse it.
    pub async fn end_session(&self, end: EndSession<'_>) -> Result<bool, StoreError> {
        let mut condition = "#status = :active".to_owned();
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(session_key(end.session)))
            .update_expression(
                "SET #status = :status, endTime = :end, endedBy = :by, endReason = :reason, \
                 expiresAt = :expires \
                 REMOVE GSI1PK, GSI1SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK, GSI5PK, GSI5SK, waitingSince",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
            .expression_attribute_values(":status", s(status_after(end.reason).as_str()))
            .expression_attribute_values(":end", s(iso8601(end.end_time)))
            .expression_attribute_values(":by", s(end.ended_by.as_str()))
            .expression_attribute_values(":reason", s(end.reason.as_str()))
            .expression_attribute_values(":expires", n(end.expires_at));
        if let Some(hash) = end.token_hash {
            condition.push_str(" AND tokenHash = :token");
            update = update.expression_attribute_values(":token", s(hash.as_str()));
        }
        if end.tokenless {
            condition.push_str(" AND attribute_not_exists(tokenPresented)");
        }
        if let Some(cutoff) = end.unseen_since {
            condition.push_str(" AND lastSeenAt < :cutoff");
            update = update.expression_attribute_values(":cutoff", s(iso8601(cutoff)));
        }
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(built(update.condition_expression(condition).build())?)
                .build(),
            self.move_active_count(-1)?,
            self.add_to_stats(end.stats)?,
        ];
        if let Some(activity) = end.activity {
            writes.push(self.put_if_new(serde_dynamo::to_item(activity)?)?);
        }
        self.transact_if(writes).await
    }

    /// How many sessions are active: one read of the counter.
    pub async fn active_count(&self) -> Result<u64, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(counter_key()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.as_ref().map_or(0, active_count_in))
    }

    /// Active sessions whose client was last seen before `cutoff`, oldest first: one Query on
    /// the presence index (keys only), never a scan.
    pub async fn unseen_sessions(
        &self,
        cutoff: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<SessionId>, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(PRESENCE_INDEX)
            .key_condition_expression("GSI3PK = :presence AND GSI3SK < :cutoff")
            .expression_attribute_values(":presence", s(PRESENCE_PARTITION))
            .expression_attribute_values(":cutoff", s(iso8601(cutoff)))
            .limit(limit)
            .send()
            .await?;
        Ok(output
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| session_of_pk(item.get("PK")?.as_s().ok()?))
            .collect())
    }

    /// The sessions of these ids that exist (in any order): one `BatchGetItem` per 100.
    pub async fn sessions_by_id(&self, ids: &[SessionId]) -> Result<Vec<SessionItem>, StoreError> {
        let mut sessions = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let keys = chunk.iter().map(session_key).collect();
            for item in self.batch_get(keys, true).await? {
                sessions.push(decode(item)?);
            }
        }
        Ok(sessions)
    }

    /// A client poll's writes on its session, in one conditional write. False when the
    /// delivery marker moved meanwhile (another poll delivered) or the session is gone.
    pub async fn record_poll(
        &self,
        session: &SessionId,
        write: &PollWrite,
    ) -> Result<bool, StoreError> {
        let mut sets = Vec::new();
        let mut condition = "attribute_exists(PK)".to_owned();
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(session_key(session)));
        if let Some((seen, reached)) = &write.delivery {
            sets.push(
                "deliveredSupportSeq = :seq, deliveredSupportCount = :count, \
                 deliveryFrom = :from, deliveryCursor = :cursor",
            );
            // Sessions start with the marker at 0 but may lack the attribute: both mean none.
            condition.push_str(if seen.seq == 0 {
                " AND (attribute_not_exists(deliveredSupportSeq) OR deliveredSupportSeq = :seen)"
            } else {
                " AND deliveredSupportSeq = :seen"
            });
            request = request
                .expression_attribute_values(":seq", n(reached.seq))
                .expression_attribute_values(":count", n(reached.count))
                .expression_attribute_values(":from", n(reached.poll_start))
                .expression_attribute_values(
                    ":cursor",
                    reached.poll_cursor.map_or(AttributeValue::Null(true), n),
                )
                .expression_attribute_values(":seen", n(seen.seq));
            if let Some(newest) = write.newest_delivered {
                sets.push("deliveredSupportId = :newest");
                request = request.expression_attribute_values(":newest", n(newest));
            }
        }
        if let Some(at) = write.seen_at {
            // GSI3SK moves with it; an ended session has no GSI3PK, so it stays out of the index.
            sets.push("lastSeenAt = :now, GSI3SK = :presence");
            request = request
                .expression_attribute_values(":now", s(iso8601(at)))
                .expression_attribute_values(":presence", s(timed_sk(at, session)));
        }
        if write.token_presented {
            sets.push("tokenPresented = :true");
            request = request.expression_attribute_values(":true", AttributeValue::Bool(true));
        }
        if sets.is_empty() {
            return Ok(true);
        }
        let result = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition)
            .send()
            .await;
        super::written(result)
    }
}

/// The status a session ends in: `ended_by_admin` when an agent ended it, else `ended`.
pub fn status_after(reason: EndReason) -> SessionStatus {
    match reason {
        EndReason::Admin => SessionStatus::EndedByAdmin,
        EndReason::User | EndReason::Idle => SessionStatus::Ended,
    }
}
