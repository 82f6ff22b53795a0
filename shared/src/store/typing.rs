//! Typing signals and read markers on the session item: the item the client poll and the
//! agent's transcript read already read, so carrying them costs those reads nothing. None of
//! these attributes is an index key.

use super::items::SessionItem;
use super::{decode, n, s, session_key, ChatStore, StoreError};
use crate::clock::iso8601;
use crate::ids::{SessionId, TokenHash};
use crate::model::SessionStatus;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

/// Which side signals that it is typing.
#[derive(Debug, Clone, Copy)]
pub enum Typist<'a> {
    /// The customer, with the token hash to match (none in migration mode) and whether the
    /// token is to be remembered.
    Customer {
        token_hash: Option<&'a TokenHash>,
        remember_token: bool,
    },
    Support,
}

/// A typing write: written, or refused with the session as it was (absent: no such session).
#[derive(Debug)]
pub enum TypingWrite {
    Written,
    Refused(Option<Box<SessionItem>>),
}

impl ChatStore {
    /// Records that `typist` types at `now`, in one conditional write: only in an active
    /// session, with the customer's token, and only if the last signal is older than
    /// `written_before` (the throttle). A refusal returns the session so the caller tells the
    /// reasons apart without another read.
    pub async fn record_typing(
        &self,
        session: &SessionId,
        typist: Typist<'_>,
        now: DateTime<Utc>,
        written_before: DateTime<Utc>,
    ) -> Result<TypingWrite, StoreError> {
        let attribute = match typist {
            Typist::Customer { .. } => "customerTypingAt",
            Typist::Support => "supportTypingAt",
        };
        let mut condition = "#status = :active AND (attribute_not_exists(#typing) \
                             OR #typing < :throttle)"
            .to_owned();
        let mut update = "SET #typing = :now".to_owned();
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(session_key(session)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#typing", attribute)
            .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
            .expression_attribute_values(":now", s(iso8601(now)))
            .expression_attribute_values(":throttle", s(iso8601(written_before)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Typist::Customer {
            token_hash,
            remember_token,
        } = typist
        {
            match token_hash {
                Some(hash) => {
                    condition.push_str(" AND tokenHash = :token");
                    request = request.expression_attribute_values(":token", s(hash.as_str()));
                }
                None => condition.push_str(" AND attribute_not_exists(tokenPresented)"),
            }
            if remember_token {
                update.push_str(", tokenPresented = :true");
                request = request.expression_attribute_values(":true", AttributeValue::Bool(true));
            }
        }
        let result = request
            .update_expression(update)
            .condition_expression(condition)
            .send()
            .await;
        match result {
            Ok(_) => Ok(TypingWrite::Written),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let old = failed.item().cloned().filter(|item| !item.is_empty());
                    Ok(TypingWrite::Refused(
                        old.map(decode).transpose()?.map(Box::new),
                    ))
                }
                _ => Err(err.into()),
            },
        }
    }

    /// Moves the agents' read marker up to user message `seq`, never back: one conditional
    /// write; false (nothing written) when it is already there or past it.
    pub async fn advance_support_read(
        &self,
        session: &SessionId,
        seq: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(session_key(session)))
            .update_expression("SET supportReadUpTo = :seq")
            .condition_expression(
                "attribute_exists(PK) AND \
                 (attribute_not_exists(supportReadUpTo) OR supportReadUpTo < :seq)",
            )
            .expression_attribute_values(":seq", n(seq))
            .send()
            .await;
        super::written(result)
    }
}
