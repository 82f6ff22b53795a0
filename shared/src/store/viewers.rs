//! Which session an agent's connection shows (`view` frames): the connection's copy in that
//! session's viewers partition, named by its lookup item so that the next view or `$disconnect`
//! removes it. Every change is one transaction.

use super::items::*;
use super::keys::*;
use super::push::key;
use super::{built, s, ChatStore, StoreError};
use crate::ids::SessionId;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};

/// How a `view` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewOutcome {
    /// The connection now gets that session's events (or none, for `None`).
    Viewing(Option<SessionId>),
    /// No such connection (closed meanwhile, or never opened).
    NotConnected,
    /// A customer's connection: it has its own session's events already.
    NotAnAgent,
    /// The agent was deactivated or their tokens retired (the connection is being closed).
    AgentRetired,
    /// No such session: nothing stored.
    NoSuchSession,
}

impl ChatStore {
    /// Makes `connection_id` a viewer of `session` (or of none): two strong reads (its lookup,
    /// then its item), then ONE transaction that moves the lookup's `viewing` on only if no
    /// other view moved it meanwhile, checks the agent still may work (as `$connect` did) and
    /// the session exists, stores the copy in the new session's viewers partition and deletes
    /// the one in the old. A view that lost such a race is tried once more.
    pub async fn view_session(
        &self,
        connection_id: &str,
        session: Option<&SessionId>,
    ) -> Result<ViewOutcome, StoreError> {
        for _ in 0..2 {
            let Some(lookup) = self
                .get::<ConnectionLookupItem>(
                    connection_lookup_pk(connection_id),
                    CONNECTION_LOOKUP_SK,
                )
                .await?
            else {
                return Ok(ViewOutcome::NotConnected);
            };
            // A customer's connection is not read at all: its partition says whose it is.
            if !lookup.owner.starts_with(&agent_connections_pk("")) {
                return Ok(ViewOutcome::NotAnAgent);
            }
            let Some(connection) = self
                .get::<ConnectionItem>(lookup.owner.clone(), &connection_sk(connection_id))
                .await?
            else {
                return Ok(ViewOutcome::NotConnected);
            };
            let Some(PushHolder::Agent {
                admin_id,
                generation,
            }) = connection.holder.holder()
            else {
                return Ok(ViewOutcome::NotAnAgent);
            };
            if lookup.viewing.as_ref() == session {
                return Ok(ViewOutcome::Viewing(session.cloned()));
            }
            let agent = ConditionCheck::builder()
                .table_name(self.table())
                .set_key(Some(key(admin_pk(&admin_id), ADMIN_SK)))
                .condition_expression("active = :true AND tokenGeneration = :gen")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":gen", AttributeValue::N(generation.to_string()));
            let mut writes = vec![
                self.move_viewing(&lookup, session)?,
                TransactWriteItem::builder()
                    .condition_check(built(agent.build())?)
                    .build(),
            ];
            if let Some(session) = session {
                let exists = ConditionCheck::builder()
                    .table_name(self.table())
                    .set_key(Some(key(session_pk(session), SESSION_SK)))
                    .condition_expression("attribute_exists(PK)");
                writes.push(
                    TransactWriteItem::builder()
                        .condition_check(built(exists.build())?)
                        .build(),
                );
                let copy = connection.viewing(session);
                let put = Put::builder()
                    .table_name(self.table())
                    .set_item(Some(serde_dynamo::to_item(copy)?));
                writes.push(
                    TransactWriteItem::builder()
                        .put(built(put.build())?)
                        .build(),
                );
            }
            if let Some(old) = &lookup.viewing {
                let delete = Delete::builder().table_name(self.table()).set_key(Some(key(
                    view_connections_pk(old),
                    &connection_sk(connection_id),
                )));
                writes.push(
                    TransactWriteItem::builder()
                        .delete(built(delete.build())?)
                        .build(),
                );
            }
            match self.transact_or_cancellation(writes).await? {
                Ok(()) => return Ok(ViewOutcome::Viewing(session.cloned())),
                Err(cancelled) if cancelled.refused(0) => continue,
                Err(cancelled) if cancelled.refused(1) => return Ok(ViewOutcome::AgentRetired),
                Err(cancelled) if session.is_some() && cancelled.refused(2) => {
                    return Ok(ViewOutcome::NoSuchSession)
                }
                Err(cancelled) => return Err(cancelled.into_error()),
            }
        }
        Err(StoreError::Request(
            "another view of this connection kept winning".into(),
        ))
    }

    /// The lookup's `viewing`, set to `session` on the condition that it is still what was read.
    fn move_viewing(
        &self,
        lookup: &ConnectionLookupItem,
        session: Option<&SessionId>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(lookup.pk.clone(), CONNECTION_LOOKUP_SK)))
            .expression_attribute_names("#viewing", "viewing");
        update = match session {
            Some(session) => update
                .update_expression("SET #viewing = :new")
                .expression_attribute_values(":new", s(session.as_str())),
            None => update.update_expression("REMOVE #viewing"),
        };
        update = match &lookup.viewing {
            Some(old) => update
                .condition_expression("#viewing = :old")
                .expression_attribute_values(":old", s(old.as_str())),
            None => update
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(#viewing)"),
        };
        Ok(TransactWriteItem::builder()
            .update(built(update.build())?)
            .build())
    }
}
