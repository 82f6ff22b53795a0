//! The stream consumer: a batch of committed changes in, each frame posted to the connections
//! that may see it. At least once: a record whose posts failed is reported, and the event
//! source mapping delivers it (and the records after it) again; clients drop duplicates by id.

use super::events::{self, Audience, Change, Closed, Closing, Frame, ItemKind, Plan};
use super::list_hint;
use super::sender::{is_settled, PostError, PushSender, CONCURRENT_POSTS};
use crate::chat::ActiveSessionView;
use crate::ids::SessionId;
use crate::store::items::{ConnectionItem, PushHolder};
use crate::store::keys::{agent_connections_pk, session_connections_pk, view_connections_pk};
use crate::store::{ChatStore, Consistency};
use crate::{App, ChatError};
use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashMap};

/// One post: which record asked for it, to which connection, what.
#[derive(Clone)]
struct Post {
    record: usize,
    connection: ConnectionItem,
    frame: String,
    /// Close the connection after the frame (a `closing`).
    then_close: bool,
}

/// Consumes one batch; the records to deliver again are the answer's `batchItemFailures`.
pub async fn consume(
    app: &App,
    sender: &PushSender,
    event: StreamEvent,
) -> Result<DynamoDbEventResponse, ChatError> {
    let store = app.chat.store();
    let now = app.chat.now();
    let records = event.records;
    let plans: Vec<Option<Plan>> = records.iter().map(plan_record).collect();

    // The newest image of each session in the batch tells who holds it.
    let mut sessions = HashMap::new();
    for plan in plans.iter().flatten() {
        if let Some(session) = &plan.session {
            sessions.insert(session.session_id.clone(), session.assigned_to.clone());
        }
    }

    let mut audiences = Audiences::new(store, now.timestamp(), sessions);
    let mut posts = Vec::new();
    // The lists' rows this batch changed, the newest change last.
    let mut rows: Vec<ActiveSessionView> = Vec::new();
    let mut failed = BTreeSet::new();
    for (index, plan) in plans.into_iter().enumerate() {
        let Some(plan) = plan else { continue };
        let result: Result<(), ChatError> = async {
            for (audience, frame) in &plan.frames {
                let json = frame.to_json();
                for connection in audiences.connections(audience).await? {
                    // A holder who also views the chat gets each frame once.
                    let twice = posts.iter().any(|p: &Post| {
                        p.record == index
                            && p.connection.connection_id == connection.connection_id
                            && p.frame == json
                    });
                    if twice {
                        continue;
                    }
                    posts.push(Post {
                        record: index,
                        connection,
                        frame: json.clone(),
                        then_close: false,
                    });
                }
            }
            for closing in &plan.closings {
                for (connection, frame) in audiences.closing(closing).await? {
                    posts.push(Post {
                        record: index,
                        connection,
                        frame: frame.to_json(),
                        then_close: true,
                    });
                }
            }
            Ok(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "could not find a record's connections");
            failed.insert(index);
        }
        if let Some(row) = plan.list_row {
            rows.retain(|r| r.session_id != row.session_id);
            rows.push(row);
        }
    }

    // Each connection's frames in the order of the records (a customer sees replies in
    // order); connections in parallel.
    let mut by_connection: Vec<(ConnectionItem, Vec<Post>)> = Vec::new();
    for post in posts {
        match by_connection
            .iter_mut()
            .find(|(c, _)| c.connection_id == post.connection.connection_id)
        {
            Some((_, queue)) => queue.push(post),
            None => by_connection.push((post.connection.clone(), vec![post])),
        }
    }
    let outcomes: Vec<(ConnectionItem, Vec<usize>, Option<PostError>)> =
        stream::iter(by_connection)
            .map(|(connection, queue)| async move {
                let mut failed_records = Vec::new();
                for (done, post) in queue.iter().enumerate() {
                    let mut result = sender.post(&connection.connection_id, &post.frame).await;
                    if result.is_ok() && post.then_close {
                        result = sender.close(&connection.connection_id).await;
                    }
                    if let Err(err) = result {
                        // This frame and those after it for this connection were not sent.
                        failed_records.extend(queue[done..].iter().map(|p| p.record));
                        return (connection, failed_records, Some(err));
                    }
                }
                (connection, failed_records, None)
            })
            .buffer_unordered(CONCURRENT_POSTS)
            .collect()
            .await;
    let mut gone = BTreeSet::new();
    for (connection, records_not_sent, error) in outcomes {
        match error {
            None => {}
            // Gone: forgotten at once, no retry. But API Gateway answers 410 for a connection
            // whose $connect has not finished yet: one that new is left be (the client reads
            // from its cursor once open, which covers what it missed).
            Some(PostError::Gone) if is_settled(&connection, now) => {
                gone.insert((connection.pk.clone(), connection.connection_id.clone()));
            }
            Some(PostError::Gone) => {}
            Some(PostError::Failed(detail)) => {
                tracing::warn!(error = %detail, connection = %connection.connection_id, "post failed");
                failed.extend(records_not_sent);
            }
        }
    }
    for (owner, connection_id) in &gone {
        if let Err(err) = store.forget_connection(owner, connection_id).await {
            tracing::warn!(error = %err, connection = %connection_id, "could not forget a gone connection");
        }
    }

    if !rows.is_empty() {
        let last = records.len().saturating_sub(1);
        // Not a state of any one session: clients do not order hints, they act on each.
        let id = sequence_of(&records[last]).to_owned();
        if let Err(err) = list_hint::send(app, sender, rows.into_iter().rev().collect(), id).await {
            tracing::warn!(error = %err, "list hint not sent");
        }
    }

    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|index| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_of(&records[index]).to_owned());
            failure
        })
        .collect();
    Ok(response)
}

fn sequence_of(record: &EventRecord) -> &str {
    record.change.sequence_number.as_deref().unwrap_or("0")
}

/// What a record asks for; `None` for records nobody is told about (other items, TTL
/// deletions) and for images that do not decode (logged: a poison record must not stall the
/// shard).
fn plan_record(record: &EventRecord) -> Option<Plan> {
    let by_ttl = record
        .user_identity
        .as_ref()
        .is_some_and(|identity| identity.type_ == "Service");
    if by_ttl {
        return None;
    }
    let sort_key: String =
        serde_dynamo::from_attribute_value(record.change.keys.get("SK")?.clone()).ok()?;
    let kind = events::item_kind(&sort_key)?;
    let change = match decode_change(record, kind) {
        Ok(change) => change?,
        Err(err) => {
            tracing::error!(error = %err, sequence = sequence_of(record), "stream record does not decode");
            return None;
        }
    };
    let at: DateTime<Utc> = record.change.approximate_creation_date_time;
    Some(events::plan(change, sequence_of(record), at))
}

fn decode_change(
    record: &EventRecord,
    kind: ItemKind,
) -> Result<Option<Change>, serde_dynamo::Error> {
    fn image<T: DeserializeOwned>(
        image: &serde_dynamo::Item,
    ) -> Result<Option<Box<T>>, serde_dynamo::Error> {
        if image.is_empty() {
            return Ok(None);
        }
        serde_dynamo::from_item(image.clone())
            .map(Box::new)
            .map(Some)
    }
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    Ok(Some(match kind {
        ItemKind::Session => Change::Session {
            old: image(old)?,
            new: image(new)?,
        },
        ItemKind::Admin => Change::Admin {
            old: image(old)?,
            new: image(new)?,
        },
        ItemKind::Message => match image(new)? {
            // Only a new message is news; a message removed by retention is not.
            Some(message) if old.is_empty() => Change::Message(message),
            _ => return Ok(None),
        },
    }))
}

/// Finds the connections of each audience once per batch.
struct Audiences<'a> {
    store: &'a ChatStore,
    now: i64,
    holders: HashMap<SessionId, Option<crate::store::items::Assignee>>,
    partitions: HashMap<String, Vec<ConnectionItem>>,
}

impl<'a> Audiences<'a> {
    fn new(
        store: &'a ChatStore,
        now: i64,
        holders: HashMap<SessionId, Option<crate::store::items::Assignee>>,
    ) -> Self {
        Self {
            store,
            now,
            holders,
            partitions: HashMap::new(),
        }
    }

    async fn partition(&mut self, partition: String) -> Result<Vec<ConnectionItem>, ChatError> {
        if let Some(found) = self.partitions.get(&partition) {
            return Ok(found.clone());
        }
        let found = self
            .store
            .connections_of(&partition, self.now, Consistency::Eventual)
            .await?;
        self.partitions.insert(partition, found.clone());
        Ok(found)
    }

    /// The connections a closing ends: read strongly (one opened a moment ago must not
    /// escape it), and forgotten before they are told, so that no later batch posts to them
    /// even if the close itself fails.
    async fn closed(&mut self, partition: String) -> Result<Vec<ConnectionItem>, ChatError> {
        let found = self
            .store
            .connections_of(&partition, self.now, Consistency::Strong)
            .await?;
        for connection in &found {
            self.store
                .forget_connection(&connection.pk, &connection.connection_id)
                .await?;
        }
        self.partitions.remove(&partition);
        Ok(found)
    }

    async fn connections(&mut self, audience: &Audience) -> Result<Vec<ConnectionItem>, ChatError> {
        match audience {
            Audience::Customer(session) => self.partition(session_connections_pk(session)).await,
            Audience::Agent(admin_id) => self.partition(agent_connections_pk(admin_id)).await,
            Audience::ViewersOf(session) => self.partition(view_connections_pk(session)).await,
            Audience::HolderOf(session) => {
                let holder = match self.holders.get(session) {
                    Some(holder) => holder.clone(),
                    None => {
                        // A message whose session record is in another batch: read it.
                        let found = self.store.get_session(session).await?;
                        let holder = found.and_then(|s| s.assigned_to);
                        self.holders.insert(session.clone(), holder.clone());
                        holder
                    }
                };
                match holder {
                    Some(holder) => self.partition(agent_connections_pk(&holder.admin_id)).await,
                    None => Ok(Vec::new()),
                }
            }
        }
    }

    /// The connections a closing ends, each with the frame that says why.
    async fn closing(
        &mut self,
        closing: &Closing,
    ) -> Result<Vec<(ConnectionItem, Frame)>, ChatError> {
        let frame = &closing.frame;
        Ok(match &closing.whom {
            Closed::SessionEnded(session) => self
                .closed(session_connections_pk(session))
                .await?
                .into_iter()
                .map(|c| (c, frame.clone()))
                .collect(),
            Closed::AgentRetired {
                admin_id,
                active,
                current,
            } => {
                let retired: Vec<ConnectionItem> = self
                    .store
                    .connections_of(
                        &agent_connections_pk(admin_id),
                        self.now,
                        Consistency::Strong,
                    )
                    .await?
                    .into_iter()
                    .filter(|c| match c.holder.holder() {
                        Some(PushHolder::Agent { generation, .. }) => {
                            !active || generation < *current
                        }
                        _ => true,
                    })
                    .collect();
                for connection in &retired {
                    self.store
                        .forget_connection(&connection.pk, &connection.connection_id)
                        .await?;
                }
                self.partitions.remove(&agent_connections_pk(admin_id));
                // Their copies among a session's viewers went with them.
                self.partitions
                    .retain(|pk, _| !pk.starts_with("CONNS#VIEW#"));
                retired.into_iter().map(|c| (c, frame.clone())).collect()
            }
        })
    }
}

#[cfg(test)]
mod tests;
