//! The push channel's reads and writes: tickets, connections and the list hint's gate.
//! Every change is one conditional write or one transaction.

use super::items::*;
use super::keys::*;
use super::{built, decode, n, s, written, ChatStore, ConditionRefused, Item, StoreError};
use crate::ids::SessionId;
use crate::model::SessionStatus;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem};
use std::collections::HashMap;

impl ConditionRefused for DeleteItemError {
    fn condition_refused(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// A table key (`PK`, `SK`).
pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

/// Whose turn the list hint is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HintTurn {
    /// This caller's, with what went unannounced since the last hint.
    Mine { missed: Missed },
    /// Another's, until this time (epoch milliseconds).
    TakenUntil(i64),
}

/// List changes since the last hint that no hint announced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missed {
    /// The sessions whose rows changed unannounced.
    pub sessions: Vec<SessionId>,
    /// Changes whose sessions nobody knows (a hint's posts failed): lists must re-read.
    pub unnamed: bool,
}

/// How `$connect`'s transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectOutcome {
    Opened,
    /// The ticket was used (or expired) meanwhile.
    TicketSpent,
    /// The session ended, or the agent was deactivated or their tokens retired.
    HolderRefused,
}

/// Whether a read must see every write before it (closing a connection just opened) or may
/// lag by a moment (fan-out: a connection opened meanwhile catches up with its own read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    Eventual,
    Strong,
}

impl ChatStore {
    /// Stores a new ticket (its hash is random: a clash means a broken random source).
    pub async fn put_ticket(&self, ticket: &TicketItem) -> Result<bool, StoreError> {
        written(
            self.client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(serde_dynamo::to_item(ticket)?))
                .condition_expression("attribute_not_exists(PK)")
                .send()
                .await,
        )
    }

    /// A ticket by its hash (strongly consistent: it was written a moment ago).
    pub async fn ticket(&self, ticket_hash: &str) -> Result<Option<TicketItem>, StoreError> {
        self.get(ticket_pk(ticket_hash), TICKET_SK).await
    }

    /// Opens a connection in ONE transaction: spends the ticket (deleted only if it is still
    /// there and unexpired at `now`, epoch seconds: it works once), checks the holder still
    /// may receive (the session is active, or the agent active with the same token
    /// generation) and stores the connection and its lookup item. Nothing is written unless
    /// all of it is.
    pub async fn open_connection(
        &self,
        ticket_hash: &str,
        connection: &ConnectionItem,
        now: i64,
    ) -> Result<ConnectOutcome, StoreError> {
        let holder = connection
            .holder
            .holder()
            .ok_or_else(|| StoreError::Request("a connection without its holder".into()))?;
        let spend = Delete::builder()
            .table_name(self.table())
            .set_key(Some(key(ticket_pk(ticket_hash), TICKET_SK)))
            .condition_expression("attribute_exists(PK) AND expiresAt > :now")
            .expression_attribute_values(":now", n(now));
        let check = match &holder {
            PushHolder::Customer { session_id } => ConditionCheck::builder()
                .table_name(self.table())
                .set_key(Some(key(session_pk(session_id), SESSION_SK)))
                .condition_expression("#status = :active")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", s(SessionStatus::Active.as_str())),
            PushHolder::Agent {
                admin_id,
                generation,
            } => ConditionCheck::builder()
                .table_name(self.table())
                .set_key(Some(key(admin_pk(admin_id), ADMIN_SK)))
                .condition_expression("active = :true AND tokenGeneration = :gen")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":gen", n(*generation)),
        };
        let put = |item: Item| -> Result<TransactWriteItem, StoreError> {
            let put = built(
                Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .build(),
            )?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        let writes = vec![
            TransactWriteItem::builder()
                .delete(built(spend.build())?)
                .build(),
            TransactWriteItem::builder()
                .condition_check(built(check.build())?)
                .build(),
            put(serde_dynamo::to_item(connection)?)?,
            put(serde_dynamo::to_item(connection.lookup())?)?,
        ];
        Ok(match self.transact_or_cancellation(writes).await? {
            Ok(()) => ConnectOutcome::Opened,
            Err(cancelled) if cancelled.refused(0) => ConnectOutcome::TicketSpent,
            Err(cancelled) if cancelled.refused(1) => ConnectOutcome::HolderRefused,
            Err(cancelled) => return Err(cancelled.into_error()),
        })
    }

    /// Forgets a connection API Gateway reports closed (`$disconnect`): every item of it (see
    /// [`Self::forget_connection`]). Returns the partition that held it, if it was known.
    pub async fn close_connection(
        &self,
        connection_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.forget_every_item(connection_id, None).await
    }

    /// Forgets a connection that is gone (a post answered 410) or being closed, whichever of
    /// its items `pk` is: its lookup names the others (its holder's item, and the copy in the
    /// viewers of the session it shows), and all go in one transaction.
    pub async fn forget_connection(&self, pk: &str, connection_id: &str) -> Result<(), StoreError> {
        self.forget_every_item(connection_id, Some(pk)).await?;
        Ok(())
    }

    /// One strong read of the lookup, then one transaction deleting it (only if no view moved
    /// it meanwhile; then once more) with the items it names and `also`.
    async fn forget_every_item(
        &self,
        connection_id: &str,
        also: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let delete = |pk: String, sk: &str| -> Result<Delete, StoreError> {
            built(
                Delete::builder()
                    .table_name(self.table())
                    .set_key(Some(key(pk, sk)))
                    .build(),
            )
        };
        for _ in 0..2 {
            let lookup: Option<ConnectionLookupItem> = self
                .get(connection_lookup_pk(connection_id), CONNECTION_LOOKUP_SK)
                .await?;
            let Some(lookup) = lookup else {
                // Forgotten already; a stray item of it (a copy) goes on its own.
                if let Some(pk) = also {
                    self.delete_connection_item(pk, connection_id).await?;
                }
                return Ok(None);
            };
            let mut partitions = vec![lookup.owner.clone()];
            partitions.extend(lookup.viewing.as_ref().map(view_connections_pk));
            partitions.extend(also.map(str::to_owned));
            partitions.sort();
            partitions.dedup();
            let mut forget = Delete::builder()
                .table_name(self.table())
                .set_key(Some(key(lookup.pk.clone(), CONNECTION_LOOKUP_SK)))
                .expression_attribute_names("#viewing", "viewing");
            forget = match &lookup.viewing {
                Some(viewing) => forget
                    .condition_expression("#viewing = :viewing")
                    .expression_attribute_values(":viewing", s(viewing.as_str())),
                None => forget.condition_expression("attribute_not_exists(#viewing)"),
            };
            let mut writes = vec![TransactWriteItem::builder()
                .delete(built(forget.build())?)
                .build()];
            for pk in partitions {
                let item = delete(pk, &connection_sk(connection_id))?;
                writes.push(TransactWriteItem::builder().delete(item).build());
            }
            match self.transact_or_cancellation(writes).await? {
                Ok(()) => return Ok(Some(lookup.owner)),
                Err(cancelled) if cancelled.refused(0) => continue,
                Err(cancelled) => return Err(cancelled.into_error()),
            }
        }
        Err(StoreError::Request(
            "a view kept moving a connection being forgotten".into(),
        ))
    }

    async fn delete_connection_item(
        &self,
        owner: &str,
        connection_id: &str,
    ) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(owner.to_owned(), &connection_sk(connection_id))))
            .send()
            .await?;
        Ok(())
    }

    /// The open connections of one holder's partition (a session's customer, or one agent):
    /// one eventually consistent Query of a short range.
    pub async fn connections_of(
        &self,
        partition: &str,
        now: i64,
        consistency: Consistency,
    ) -> Result<Vec<ConnectionItem>, StoreError> {
        let query = self
            .client()
            .query()
            .consistent_read(consistency == Consistency::Strong)
            .key_condition_expression("PK = :pk AND begins_with(SK, :conn)")
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":conn", s(CONNECTION_SK_PREFIX));
        self.live_connections(query, now).await
    }

    /// Every agent's open connection (GSI2 `CONNS#AGENTS`), for the list hint.
    pub async fn agent_connections(&self, now: i64) -> Result<Vec<ConnectionItem>, StoreError> {
        let query = self
            .client()
            .query()
            .index_name(ALL_INDEX)
            .key_condition_expression("GSI2PK = :pk")
            .expression_attribute_values(":pk", s(AGENT_CONNECTIONS_PARTITION));
        self.live_connections(query, now).await
    }

    /// Every page of a connections query, leaving out those past their expiry (`now`, epoch
    /// seconds): TTL deletes them within days, not at once.
    async fn live_connections(
        &self,
        query: QueryFluentBuilder,
        now: i64,
    ) -> Result<Vec<ConnectionItem>, StoreError> {
        let query = query
            .table_name(self.table())
            .filter_expression("expiresAt > :now")
            .expression_attribute_values(":now", n(now));
        let mut connections = Vec::new();
        let mut start = None;
        loop {
            let output = query.clone().set_exclusive_start_key(start).send().await?;
            for item in output.items.unwrap_or_default() {
                connections.push(decode(item)?);
            }
            match output.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(next) => start = Some(next),
                None => return Ok(connections),
            }
        }
    }

    /// Takes the list hint's turn: one conditional update that succeeds for one caller per
    /// `interval_ms` (epoch milliseconds), whatever the number of consumers running. The
    /// winner learns whether a loser has missed its turn since the last hint (then the hint
    /// tells clients to re-read their lists).
    pub async fn claim_list_hint(
        &self,
        now_ms: i64,
        interval_ms: i64,
    ) -> Result<HintTurn, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(LIST_HINT_PK.to_owned(), LIST_HINT_SK)))
            .update_expression("SET sentAt = :now REMOVE missedSessions, missedUnnamed")
            .condition_expression("attribute_not_exists(sentAt) OR sentAt <= :before")
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":before", n(now_ms - interval_ms))
            .return_values(ReturnValue::UpdatedOld)
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        let number = |item: Option<&Item>, name: &str| {
            item.and_then(|item| item.get(name))
                .and_then(|value| value.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok())
        };
        match result {
            Ok(output) => {
                let old = output.attributes.as_ref();
                let sessions: Vec<SessionId> = old
                    .and_then(|item| item.get("missedSessions"))
                    .and_then(|set| set.as_ss().ok())
                    .map(|ids| ids.iter().filter_map(|id| SessionId::parse(id)).collect())
                    .unwrap_or_default();
                Ok(HintTurn::Mine {
                    missed: Missed {
                        unnamed: number(old, "missedUnnamed").unwrap_or(0) > 0,
                        sessions,
                    },
                })
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let sent_at = number(failed.item(), "sentAt").unwrap_or(now_ms);
                    Ok(HintTurn::TakenUntil(sent_at + interval_ms))
                }
                _ => Err(err.into()),
            },
        }
    }

    /// Notes that list changes went unannounced (their turn was taken, or posts failed),
    /// with the sessions whose rows changed when known: the next hint carries those rows, or
    /// makes every list re-read when it cannot name them all.
    pub async fn miss_list_hint(&self, sessions: &[SessionId]) -> Result<(), StoreError> {
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(LIST_HINT_PK.to_owned(), LIST_HINT_SK)));
        let request = if sessions.is_empty() {
            request
                .update_expression("ADD missedUnnamed :one")
                .expression_attribute_values(":one", n(1))
        } else {
            let ids = sessions.iter().map(|id| id.as_str().to_owned()).collect();
            request
                .update_expression("ADD missedSessions :ids")
                .expression_attribute_values(":ids", AttributeValue::Ss(ids))
        };
        request.send().await?;
        Ok(())
    }
}
