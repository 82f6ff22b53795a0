//! The team's canned replies: one partition, read by one Query; every change is one
//! transaction with its activity entry, the shortcut kept unique by a guard item and the number
//! of replies capped by a counter, both inside the same transaction (race-safe).

use super::items::*;
use super::keys::*;
use super::{built, n, s, ChatStore, Item, StoreError};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use std::collections::HashMap;

/// How a canned-reply change ended; nothing was written unless `Done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannedWrite {
    Done,
    /// Another reply holds the shortcut.
    ShortcutTaken,
    /// The reply is gone, or changed its shortcut since it was read.
    Changed,
    /// The team already has the most replies allowed.
    Full,
}

fn canned_key(sk: String) -> Item {
    HashMap::from([("PK".to_owned(), s(CANNED_PK)), ("SK".to_owned(), s(sk))])
}

impl ChatStore {
    /// Every canned reply, oldest id first: one Query (the count is capped so that they fit one
    /// page, see `chat::canned`).
    pub async fn canned_responses(&self) -> Result<Vec<CannedResponseItem>, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(CANNED_PK))
            .expression_attribute_values(":prefix", s(CANNED_RESPONSE_SK_PREFIX))
            .consistent_read(true)
            .send()
            .await?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(super::decode)
            .collect()
    }

    pub async fn canned_response(
        &self,
        response_id: &str,
    ) -> Result<Option<CannedResponseItem>, StoreError> {
        self.get(CANNED_PK.to_owned(), &canned_response_sk(response_id))
            .await
    }

    /// Adds a reply with its shortcut's guard item, counted against `cap`, and logs it.
    pub async fn create_canned_response(
        &self,
        response: &CannedResponseItem,
        activity: &ActivityItem,
        cap: u64,
    ) -> Result<CannedWrite, StoreError> {
        let count = built(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(canned_key(CANNED_COUNT_SK.to_owned())))
                .update_expression("ADD #count :one")
                .condition_expression("attribute_not_exists(#count) OR #count < :cap")
                .expression_attribute_names("#count", "responses")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":cap", n(cap))
                .build(),
        )?;
        let writes = vec![
            self.put_if_new(serde_dynamo::to_item(response)?)?,
            self.put_if_new(serde_dynamo::to_item(ShortcutItem::new(
                &response.shortcut,
                &response.response_id,
            ))?)?,
            TransactWriteItem::builder().update(count).build(),
            self.put_if_new(serde_dynamo::to_item(activity)?)?,
        ];
        Ok(match self.transact_refusals(writes).await? {
            None => CannedWrite::Done,
            Some(refused) if refused[1] => CannedWrite::ShortcutTaken,
            Some(refused) if refused[2] => CannedWrite::Full,
            Some(_) => CannedWrite::Changed,
        })
    }

    /// Replaces `old` by `new` (same id) if its shortcut is still the one read; a new shortcut
    /// moves its guard item in the same transaction.
    pub async fn update_canned_response(
        &self,
        old: &CannedResponseItem,
        new: &CannedResponseItem,
        activity: &ActivityItem,
    ) -> Result<CannedWrite, StoreError> {
        let put = built(
            Put::builder()
                .table_name(self.table())
                .set_item(Some(serde_dynamo::to_item(new)?))
                .condition_expression("attribute_exists(PK) AND shortcut = :shortcut")
                .expression_attribute_values(":shortcut", s(&old.shortcut))
                .build(),
        )?;
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        let moves_shortcut = old.shortcut != new.shortcut;
        if moves_shortcut {
            writes.push(self.release_shortcut(old)?);
            writes.push(self.put_if_new(serde_dynamo::to_item(ShortcutItem::new(
                &new.shortcut,
                &new.response_id,
            ))?)?);
        }
        writes.push(self.put_if_new(serde_dynamo::to_item(activity)?)?);
        Ok(match self.transact_refusals(writes).await? {
            None => CannedWrite::Done,
            Some(refused) if refused[0] => CannedWrite::Changed,
            Some(refused) if moves_shortcut && refused[2] => CannedWrite::ShortcutTaken,
            Some(_) => CannedWrite::Changed,
        })
    }

    /// Removes `old` (if its shortcut is still the one read), its guard item, and its count.
    pub async fn delete_canned_response(
        &self,
        old: &CannedResponseItem,
        activity: &ActivityItem,
    ) -> Result<CannedWrite, StoreError> {
        let delete = built(
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(canned_key(old.sk.clone())))
                .condition_expression("attribute_exists(PK) AND shortcut = :shortcut")
                .expression_attribute_values(":shortcut", s(&old.shortcut))
                .build(),
        )?;
        let count = built(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(canned_key(CANNED_COUNT_SK.to_owned())))
                .update_expression("ADD #count :minus_one")
                .expression_attribute_names("#count", "responses")
                .expression_attribute_values(":minus_one", n(-1))
                .build(),
        )?;
        let writes = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.release_shortcut(old)?,
            TransactWriteItem::builder().update(count).build(),
            self.put_if_new(serde_dynamo::to_item(activity)?)?,
        ];
        Ok(match self.transact_refusals(writes).await? {
            None => CannedWrite::Done,
            Some(_) => CannedWrite::Changed,
        })
    }

    /// Deletes the guard item of `response`'s shortcut, only while it names that reply.
    fn release_shortcut(
        &self,
        response: &CannedResponseItem,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = built(
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(canned_key(canned_shortcut_sk(&response.shortcut))))
                .condition_expression("responseId = :id")
                .expression_attribute_values(":id", s(&response.response_id))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Runs a transaction: `None` when it committed, else which of its writes a condition
    /// refused (in order).
    async fn transact_refusals(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<bool>>, StoreError> {
        let count = writes.len();
        match self.transact_or_cancellation(writes).await? {
            Ok(()) => Ok(None),
            Err(cancelled) => {
                let refused = cancelled.refusals();
                if refused.len() == count && refused.iter().any(|&r| r) {
                    Ok(Some(refused))
                } else {
                    Err(cancelled.into_error())
                }
            }
        }
    }
}
