//! A session's messages: the send transaction (with its idempotency key), and the reads of a
//! session partition from a cursor.

use super::items::*;
use super::keys::*;
use super::stats::StatsUpdate;
use super::{decode, n, s, session_key, ChatStore, StoreError};
use crate::clock::iso8601;
use crate::ids::{MessageId, SessionId};
use crate::model::{Sender, SessionStatus};
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use std::collections::HashMap;

/// How much of the newest message the admin list shows.
const PREVIEW_CHARS: usize = 200;

/// What a send reads before it writes: the session and, for a retried send, its first result.
#[derive(Debug, Default)]
pub struct SendSnapshot {
    pub session: Option<SessionItem>,
    pub previous: Option<IdempotencyItem>,
}

/// One message to commit as the session's next one.
#[derive(Debug)]
pub struct NewMessage {
    /// The `lastSeq` the sender saw; the write only happens if it is still current.
    pub seen_last_seq: u64,
    pub message: MessageItem,
    pub idempotency: Option<IdempotencyItem>,
    /// Logged in the same transaction (a support agent's message).
    pub activity: Option<ActivityItem>,
    /// A customer's message: the client presented its token (remembered for good).
    pub token_presented: bool,
    /// A support reply: who must hold the session (or that the reply claims it).
    pub holder: Option<super::HolderGuard>,
    /// A support message that is the session's first response: recorded on the session
    /// (`firstResponseAt`), conditioned on none being recorded yet.
    pub first_response: bool,
    /// Counted in the same transaction.
    pub stats: StatsUpdate,
    /// A customer's message: the client's presence is due a refresh (`lastSeenAt` and the
    /// presence index's key move to the message's time).
    pub presence_due: bool,
}

#[derive(Debug)]
pub enum AppendOutcome {
    Committed,
    /// Someone else committed first, or the session is no longer active. Carries the session
    /// as it is now when DynamoDB returned it, so a retry needs no extra read.
    SessionChanged(Option<Box<SessionItem>>),
    /// The idempotency key was used by a send that committed meanwhile.
    DuplicateKey,
}

/// Items after a cursor in one session partition, oldest first.
#[derive(Debug, Default)]
pub struct PartitionPage {
    pub messages: Vec<MessageItem>,
    pub session: Option<SessionItem>,
    /// DynamoDB stopped at its 1 MB page limit before the end of the partition.
    pub truncated: bool,
}

/// Support messages of a range, and how far the read got.
#[derive(Debug, Default)]
pub struct SupportRange {
    pub messages: Vec<MessageItem>,
    /// Every message up to this number was read (the range's end when `complete`).
    pub scanned_to: u64,
    pub complete: bool,
}

/// Which messages a partition read keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFilter {
    /// The client poll: only what support wrote (the client shows its own messages already).
    SupportOnly,
    All,
}

impl ChatStore {
    /// The session and, when the send carries an idempotency key, that key's earlier result:
    /// one strongly consistent request either way.
    pub async fn read_for_send(
        &self,
        session: &SessionId,
        key: Option<SenderKey<'_>>,
    ) -> Result<SendSnapshot, StoreError> {
        let Some(idem_sk) = key.map(|key| key.sk()) else {
            return Ok(SendSnapshot {
                session: self.get_session(session).await?,
                previous: None,
            });
        };
        let pk = session_pk(session);
        let keys = KeysAndAttributes::builder()
            .keys(session_key(session))
            .keys(HashMap::from([
                ("PK".to_owned(), s(pk.clone())),
                ("SK".to_owned(), s(idem_sk)),
            ]))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Request(e.to_string()))?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        let mut snapshot = SendSnapshot::default();
        // BatchGetItem may hand back keys it did not get to; ask again for those only.
        for _ in 0..5 {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await?;
            for item in output
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                match item
                    .get("SK")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                {
                    Some(SESSION_SK) => snapshot.session = Some(decode(item)?),
                    _ => snapshot.previous = Some(decode(item)?),
                }
            }
            match output.unprocessed_keys.filter(|k| !k.is_empty()) {
                Some(rest) => request = rest,
                None => return Ok(snapshot),
            }
        }
        // Unprocessed keys are DynamoDB shedding load.
        Err(StoreError::Unavailable(
            "BatchGetItem left keys unprocessed after 5 attempts".to_owned(),
        ))
    }

    pub async fn get_idempotency(
        &self,
        session: &SessionId,
        key: SenderKey<'_>,
    ) -> Result<Option<IdempotencyItem>, StoreError> {
        self.get(session_pk(session), &key.sk()).await
    }

    /// Commits a message as the session's next one, in one transaction: the session's
    /// `lastSeq` moves from the value the sender saw to the message's, only while the session
    /// is active. Two senders that saw the same `lastSeq` cannot both commit, so messages are
    /// committed in exactly the order of their sort keys and a poller never skips one.
    pub async fn append_message(
        &self,
        session: &SessionId,
        new: NewMessage,
    ) -> Result<AppendOutcome, StoreError> {
        let message = &new.message;
        let preview = MessagePreview {
            message_id: message.message_id,
            message: message.message.chars().take(PREVIEW_CHARS).collect(),
            sender: message.sender,
            timestamp: message.timestamp,
        };
        // A user message starts (or continues) a wait for support and, when due, shows the
        // client is present; a support reply ends the wait.
        let (update, claim, holder) = match &new.holder {
            Some(guard) => guard.apply(Update::builder())?,
            None => (Update::builder(), "", ""),
        };
        let mut sets = match message.sender {
            // The customer's first message is remembered (the first response is measured from it).
            Sender::User => {
                "SET lastSeq = :next, lastUserSeq = :next, lastMessage = :preview, \
                 waitingSince = if_not_exists(waitingSince, :now), \
                 GSI4PK = :waiting, GSI4SK = if_not_exists(GSI4SK, :since), \
                 firstUserMessageAt = if_not_exists(firstUserMessageAt, :now)"
            }
            Sender::Admin => "SET lastSeq = :next, lastMessage = :preview",
        }
        .to_owned();
        if matches!(message.sender, Sender::User) && new.presence_due {
            sets.push_str(", lastSeenAt = :now, GSI3SK = :since");
        }
        sets.push_str(claim);
        let mut condition = format!("lastSeq = :seen AND #status = :active{holder}");
        if new.token_presented {
            sets.push_str(", tokenPresented = :true");
        }
        if new.first_response {
            // Two replies racing to be the first response cannot both count it.
            sets.push_str(", firstResponseAt = :at");
            condition.push_str(" AND attribute_not_exists(firstResponseAt)");
        }
        let update_expression = match message.sender {
            Sender::User => sets,
            Sender::Admin => {
                format!("{sets} ADD supportCount :one REMOVE waitingSince, GSI4PK, GSI4SK")
            }
        };
        let mut update = update
            .table_name(&self.table)
            .set_key(Some(session_key(session)))
            .update_expression(update_expression)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":next", n(new.seen_last_seq + 1))
            .expression_attribute_values(":seen", n(new.seen_last_seq))
            .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
            .expression_attribute_values(":preview", serde_dynamo::to_attribute_value(&preview)?)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match message.sender {
            Sender::User => {
                update = update
                    .expression_attribute_values(":now", s(iso8601(message.timestamp)))
                    .expression_attribute_values(":waiting", s(WAITING_PARTITION))
                    .expression_attribute_values(":since", s(timed_sk(message.timestamp, session)));
            }
            Sender::Admin => update = update.expression_attribute_values(":one", n(1)),
        }
        if new.token_presented {
            update = update.expression_attribute_values(":true", AttributeValue::Bool(true));
        }
        if new.first_response {
            update = update.expression_attribute_values(":at", s(iso8601(message.timestamp)));
        }
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(
                    update
                        .build()
                        .map_err(|e| StoreError::Request(e.to_string()))?,
                )
                .build(),
            self.put_if_new(serde_dynamo::to_item(message)?)?,
        ];
        let idempotency_position = new.idempotency.as_ref().map(|_| writes.len());
        if let Some(idempotency) = &new.idempotency {
            writes.push(self.put_if_new(serde_dynamo::to_item(idempotency)?)?);
        }
        if let Some(activity) = &new.activity {
            writes.push(self.put_if_new(serde_dynamo::to_item(activity)?)?);
        }
        writes.push(self.add_to_stats(&new.stats)?);

        let cancelled = match self.transact_or_cancellation(writes).await? {
            Ok(()) => return Ok(AppendOutcome::Committed),
            Err(cancelled) => cancelled,
        };
        if idempotency_position.is_some_and(|i| cancelled.refused(i)) {
            return Ok(AppendOutcome::DuplicateKey);
        }
        if cancelled.refused(0) {
            let current = cancelled.old_item(0)?.map(Box::new);
            return Ok(AppendOutcome::SessionChanged(current));
        }
        if cancelled.conflicted() {
            // Another transaction held one of the items; the state is unknown, so re-read.
            return Ok(AppendOutcome::SessionChanged(None));
        }
        Err(cancelled.into_error())
    }

    /// The items of a session partition after a cursor (every message when `after` is None)
    /// and the session item, from ONE strongly consistent Query: the session sorts after
    /// every message, so it is always in range.
    pub async fn read_after(
        &self,
        session: &SessionId,
        after: Option<MessageId>,
        filter: MessageFilter,
    ) -> Result<PartitionPage, StoreError> {
        let lower_bound = after.map_or_else(|| MESSAGE_SK_START.to_owned(), message_sk);
        let query = self
            .client
            .query()
            .key_condition_expression("PK = :pk AND SK > :after")
            .expression_attribute_values(":after", s(lower_bound));
        self.read_partition(query, session, filter).await
    }

    /// Support messages numbered `from..=to`, oldest first, reading at most `limit` items of
    /// the partition (user messages in the range count too): one strongly consistent Query.
    /// `scanned_to` says how far it read, so a caller always makes progress.
    pub async fn read_support_range(
        &self,
        session: &SessionId,
        from: MessageId,
        to: MessageId,
        limit: i32,
    ) -> Result<SupportRange, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(session_pk(session)))
            .expression_attribute_values(":from", s(message_sk(from)))
            .expression_attribute_values(":to", s(message_sk(to)))
            .filter_expression("sender = :admin")
            .expression_attribute_values(":admin", s("admin"))
            .consistent_read(true)
            .limit(limit)
            .send()
            .await?;
        let stopped_at = output
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .and_then(|key| seq_of_message_sk(key.get("SK")?.as_s().ok()?));
        let messages = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<MessageItem>, _>>()?;
        Ok(SupportRange {
            messages,
            scanned_to: stopped_at.unwrap_or(to.seq()),
            complete: stopped_at.is_none(),
        })
    }

    async fn read_partition(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        session: &SessionId,
        filter: MessageFilter,
    ) -> Result<PartitionPage, StoreError> {
        let mut query = query
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(session_pk(session)))
            .consistent_read(true);
        if filter == MessageFilter::SupportOnly {
            // Filters are applied after the read: the user's own messages still cost read
            // capacity, but are not sent over the wire.
            query = query
                .filter_expression("entity = :session OR sender = :admin")
                .expression_attribute_values(":session", s("session"))
                .expression_attribute_values(":admin", s("admin"));
        }
        let output = query.send().await?;
        let mut page = PartitionPage {
            truncated: output.last_evaluated_key.is_some_and(|k| !k.is_empty()),
            ..PartitionPage::default()
        };
        for item in output.items.unwrap_or_default() {
            match item
                .get("SK")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
            {
                Some(SESSION_SK) => page.session = Some(decode(item)?),
                Some(sk) if sk.starts_with(MESSAGE_SK_START) => page.messages.push(decode(item)?),
                _ => {}
            }
        }
        Ok(page)
    }
}
