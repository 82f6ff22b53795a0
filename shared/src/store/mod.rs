//! DynamoDB access: every read and conditional write the service makes, and nothing else.
//!
//! Conditional outcomes (the session changed, the key was used) are values, not errors: the
//! caller decides what they mean. `StoreError` is only for DynamoDB or decoding failing.

pub mod activity;
pub mod admins;
pub mod assignment;
pub mod canned;
pub mod items;
pub mod keys;
pub mod list_heads;
pub mod messages;
pub mod page;
pub mod push;
pub mod session_lists;
pub mod sessions;
pub mod sign_in;
pub mod stats;
pub mod typing;
pub mod viewers;

#[cfg(test)]
mod page_tests;

pub use activity::ActivityFilter;
pub use admins::AdminChange;
pub use assignment::{HolderGuard, Reassign, ReassignOutcome};
pub use canned::CannedWrite;
pub use list_heads::ListHeadCache;
pub use messages::{
    AppendOutcome, MessageFilter, NewMessage, PartitionPage, SendSnapshot, SupportRange,
};
pub use page::{KeyedPage, Page, PageCursor, MAX_KEYED_PAGE};
pub use push::{ConnectOutcome, Consistency, HintTurn, Missed};
pub use session_lists::SessionsPage;
pub use sessions::{EndSession, PollWrite, RateOutcome, RateSession};
pub use stats::{StatsCounts, StatsUpdate};
pub use typing::{TypingWrite, Typist};
pub use viewers::ViewOutcome;

use crate::ids::SessionId;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use keys::*;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use thiserror::Error;

pub(crate) type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {0}")]
    Request(String),
    /// DynamoDB throttled us, did not answer in time, or could not be reached: worth a retry
    /// by the caller a moment later (nothing was half-written: every change is one request).
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    #[error("stored item could not be read: {0}")]
    Decode(#[from] serde_dynamo::Error),
    /// A page cursor this listing never hands out (forged, or from another listing).
    #[error("the cursor does not belong to this listing")]
    ForeignCursor,
}

/// Error codes DynamoDB answers when it sheds load (a transaction lists them per item).
const UNAVAILABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    // Another transaction held one of the items (a busy counter) after our retries.
    "TransactionConflict",
];

/// Attempts of a transaction that DynamoDB cancels only because another transaction held one
/// of its items (`TransactionConflict`): the counters every start, end and rating moves in
/// their transactions are shared by many sessions.
const CONFLICT_ATTEMPTS: u32 = 4;

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        let unavailable = match &err {
            // No answer in time, no connection, or the connection broke mid-answer.
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                let error = service.err();
                let throttled = error.code().is_some_and(|c| UNAVAILABLE_CODES.contains(&c));
                // A cancelled transaction names each item's reason only in its message.
                let cancelled_by_throttling = error.code() == Some("TransactionCanceledException")
                    && error
                        .message()
                        .is_some_and(|m| UNAVAILABLE_CODES.iter().any(|c| m.contains(c)));
                throttled || cancelled_by_throttling
            }
            _ => false,
        };
        let detail = DisplayErrorContext(err).to_string();
        if unavailable {
            Self::Unavailable(detail)
        } else {
            Self::Request(detail)
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChatStore {
    client: Client,
    table: String,
    list_heads: Option<Arc<ListHeadCache>>,
}

pub(crate) fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Request(e.to_string()))
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    Ok(serde_dynamo::from_item(item)?)
}

pub(crate) fn session_key(session: &SessionId) -> Item {
    HashMap::from([
        ("PK".to_owned(), s(session_pk(session))),
        ("SK".to_owned(), s(SESSION_SK)),
    ])
}

impl ChatStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            list_heads: None,
        }
    }

    /// Keeps the head of each list every dashboard reads for a moment (see
    /// [`ListHeadCache`]).
    pub fn with_list_head_cache(mut self, cache: Option<ListHeadCache>) -> Self {
        self.list_heads = cache.map(Arc::new);
        self
    }

    pub(crate) fn list_heads(&self) -> Option<&ListHeadCache> {
        self.list_heads.as_deref()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One cheap read: does the table answer?
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.get::<serde_json::Value>(HEALTH_PK.to_owned(), HEALTH_SK)
            .await?;
        Ok(())
    }

    /// One item by key, strongly consistent.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(HashMap::from([
                ("PK".to_owned(), s(pk)),
                ("SK".to_owned(), s(sk)),
            ])))
            .consistent_read(true)
            .send()
            .await?;
        output.item.map(decode).transpose()
    }

    pub(crate) fn put_if_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = built(
            Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs a transaction, again (after a short, growing, jittered pause) while DynamoDB
    /// cancels it only for a conflict with another transaction: nothing of it was applied.
    pub(crate) async fn transact(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<(), SdkError<TransactWriteItemsError, aws_smithy_runtime_api::http::Response>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client()
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .send()
                .await;
            let conflict_only = match &result {
                Err(err) => match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                        let codes: Vec<_> = cancelled
                            .cancellation_reasons()
                            .iter()
                            .filter_map(|r| r.code())
                            .filter(|code| *code != "None")
                            .collect();
                        !codes.is_empty() && codes.iter().all(|c| *c == "TransactionConflict")
                    }
                    _ => false,
                },
                Ok(_) => false,
            };
            if !conflict_only || attempt >= CONFLICT_ATTEMPTS {
                return result.map(|_| ());
            }
            let jitter = u64::from(crate::ids::random_bytes::<1>()[0]) % 20;
            tokio::time::sleep(std::time::Duration::from_millis((20 << attempt) + jitter)).await;
        }
    }

    /// Runs a transaction (retrying conflicts, as [`Self::transact`]): `Ok(Ok(()))` when it
    /// committed, `Ok(Err(_))` with DynamoDB's reason per write when it was cancelled.
    pub(crate) async fn transact_or_cancellation(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Cancellation>, StoreError> {
        match self.transact(writes).await {
            Ok(()) => Ok(Ok(())),
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled))
                    if !cancelled.cancellation_reasons().is_empty() =>
                {
                    let reasons = cancelled.cancellation_reasons().to_vec();
                    Ok(Err(Cancellation {
                        reasons,
                        error: err.into(),
                    }))
                }
                _ => Err(err.into()),
            },
        }
    }

    /// Runs a transaction; false when a condition refused it.
    pub(crate) async fn transact_if(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled))
                    if cancelled
                        .cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed")) =>
                {
                    Ok(false)
                }
                _ => Err(err.into()),
            },
        }
    }
}

/// Why DynamoDB cancelled a transaction: one reason per write, in the order they were sent.
#[derive(Debug)]
pub(crate) struct Cancellation {
    reasons: Vec<CancellationReason>,
    /// The cancellation as an error, for the cases the caller has no answer for.
    error: StoreError,
}

impl Cancellation {
    /// Write `index`'s condition refused it.
    pub(crate) fn refused(&self, index: usize) -> bool {
        self.reasons.get(index).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
    }

    /// Which writes their conditions refused, in order.
    pub(crate) fn refusals(&self) -> Vec<bool> {
        (0..self.reasons.len()).map(|i| self.refused(i)).collect()
    }

    /// The item write `index` found (asked for with ReturnValuesOnConditionCheckFailure).
    pub(crate) fn old_item<T: DeserializeOwned>(
        &self,
        index: usize,
    ) -> Result<Option<T>, StoreError> {
        let item = self.reasons.get(index).and_then(|r| r.item().cloned());
        item.filter(|item| !item.is_empty()).map(decode).transpose()
    }

    /// Another transaction held one of the items (still, after the retries).
    pub(crate) fn conflicted(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
    }

    pub(crate) fn into_error(self) -> StoreError {
        self.error
    }
}

/// Errors that say a write's condition refused it.
pub(crate) trait ConditionRefused {
    fn condition_refused(&self) -> bool;
}

impl ConditionRefused for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn condition_refused(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionRefused for UpdateItemError {
    fn condition_refused(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// A conditional write's result: true if it was written, false if its condition refused it.
pub(crate) fn written<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ConditionRefused
        + std::error::Error
        + aws_sdk_dynamodb::error::ProvideErrorMetadata
        + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().is_some_and(E::condition_refused) => Ok(false),
        Err(err) => Err(err.into()),
    }
}
