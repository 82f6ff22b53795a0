//! Failed sign-ins per email: one item, `PK = LOGIN#<sha256 of the normalized email>`,
//! `SK = LOGIN` (the raw email is never stored here), counting failures in a window.

use super::items::Entity;
use super::{n, s, ChatStore, Item, StoreError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use super::keys::{sign_in_pk, SIGN_IN_SK};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInFailuresItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    /// Failures since `windowStart`.
    pub failures: u32,
    /// Epoch milliseconds of the window's first failure.
    pub window_start: i64,
    /// Epoch milliseconds of the newest failure.
    pub last_failure_at: i64,
    /// Epoch seconds; DynamoDB's TTL deletes the item after it.
    pub expires_at: i64,
}

/// One failed sign-in to count.
#[derive(Debug, Clone, Copy)]
pub struct SignInFailure<'a> {
    pub email_hash: &'a str,
    /// Epoch milliseconds.
    pub at: i64,
    /// Failures older than this many milliseconds start a new window.
    pub window: i64,
    /// Epoch seconds.
    pub expires_at: i64,
}

fn key(email_hash: &str) -> Item {
    HashMap::from([
        ("PK".to_owned(), s(sign_in_pk(email_hash))),
        ("SK".to_owned(), s(SIGN_IN_SK)),
    ])
}

/// How often a failure is re-tried when concurrent failures moved the window under it: each
/// retry means another failure was counted, so two rounds settle it.
const MAX_COUNT_ATTEMPTS: usize = 4;

impl ChatStore {
    pub async fn sign_in_failures(
        &self,
        email_hash: &str,
    ) -> Result<Option<SignInFailuresItem>, StoreError> {
        self.get(sign_in_pk(email_hash), SIGN_IN_SK).await
    }

    /// Counts one failure with one conditional UpdateItem: it adds to the window that `seen`
    /// (the item as read before the password check) says is open, or starts a new one. Only
    /// when a concurrent failure moved the window meanwhile is the other write tried. Returns
    /// the failures in the window, this one included.
    pub async fn record_sign_in_failure(
        &self,
        failure: SignInFailure<'_>,
        seen: Option<&SignInFailuresItem>,
    ) -> Result<u32, StoreError> {
        let cutoff = failure.at - failure.window;
        let mut window_open = seen.is_some_and(|item| item.window_start > cutoff);
        for _ in 0..MAX_COUNT_ATTEMPTS {
            let request = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key(failure.email_hash)))
                .expression_attribute_values(":now", n(failure.at))
                .expression_attribute_values(":cutoff", n(cutoff))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":expires", n(failure.expires_at))
                .return_values(ReturnValue::UpdatedNew)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            let request = if window_open {
                request
                    .update_expression(
                        "SET failures = failures + :one, lastFailureAt = :now, \
                         expiresAt = :expires",
                    )
                    .condition_expression("windowStart > :cutoff")
            } else {
                request
                    .update_expression(
                        "SET failures = :one, windowStart = :now, lastFailureAt = :now, \
                         expiresAt = :expires, entity = :entity",
                    )
                    .condition_expression("attribute_not_exists(PK) OR windowStart <= :cutoff")
                    .expression_attribute_values(
                        ":entity",
                        serde_dynamo::to_attribute_value(Entity::SignInFailures)?,
                    )
            };
            match request.send().await {
                Ok(output) => {
                    return output
                        .attributes
                        .and_then(|a| a.get("failures").cloned())
                        .and_then(|v| v.as_n().ok().and_then(|v| v.parse().ok()))
                        .ok_or_else(|| StoreError::Request("UpdateItem returned no count".into()))
                }
                Err(err) => match err.as_service_error() {
                    // Another failure opened or expired the window meanwhile: use its state.
                    Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                        window_open = failed
                            .item()
                            .and_then(|item| item.get("windowStart"))
                            .and_then(|v| v.as_n().ok())
                            .and_then(|v| v.parse::<i64>().ok())
                            .is_some_and(|start| start > cutoff);
                    }
                    _ => return Err(err.into()),
                },
            }
        }
        Err(StoreError::Unavailable(
            "the sign-in failure count kept changing under concurrent writes".into(),
        ))
    }

    /// Forgets the failures of an email (after a successful sign-in).
    pub async fn clear_sign_in_failures(&self, email_hash: &str) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(email_hash)))
            .send()
            .await?;
        Ok(())
    }
}
