//! Who holds a session: claim, transfer and release, each one transaction with its activity
//! entry, and the guard a support reply puts on the holder. Sessions a given agent holds (or
//! nobody does) are listed from the sparse assignee index through the shared page reader.

use super::items::*;
use super::keys::*;
use super::page::PageCursor;
use super::session_lists::SessionIndex;
use super::SessionsPage;
use super::{built, s, session_key, ChatStore, Item, StoreError};
use crate::ids::SessionId;
use crate::model::SessionStatus;
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use std::collections::HashMap;

/// A change of holder, and who may hold the session when it happens.
pub struct Reassign<'a> {
    pub session: &'a SessionId,
    /// The new holder; `None` releases the session.
    pub to: Option<&'a Assignee>,
    /// The change is allowed while nobody holds the session.
    pub if_unassigned: bool,
    /// The change is allowed while this agent holds it.
    pub if_held_by: Option<&'a str>,
    /// The new holder's account must exist and be active when the change commits.
    pub target_active: Option<&'a str>,
    pub activity: &'a ActivityItem,
}

#[derive(Debug)]
pub enum ReassignOutcome {
    Done,
    /// The session's condition failed: the session as it was, if it exists.
    Refused(Option<Box<SessionItem>>),
    /// The new holder is no longer an active agent.
    TargetInactive,
    /// Another transaction held the session at that moment; nothing was written.
    Conflict,
}

/// What a support reply requires of the session's holder (checked in the send transaction).
#[derive(Debug)]
pub enum HolderGuard {
    /// Nobody holds it: the reply claims it for this agent.
    Claim(Assignee),
    /// This agent (the sender, or the holder a forced reply overrides) still holds it.
    HeldBy(String),
}

impl HolderGuard {
    /// The extra `SET` clauses and condition of the send's session update, with their values.
    pub(crate) fn apply(
        &self,
        update: UpdateBuilder,
    ) -> Result<(UpdateBuilder, &str, &str), StoreError> {
        Ok(match self {
            Self::Claim(assignee) => (
                update
                    .expression_attribute_values(
                        ":assignee",
                        serde_dynamo::to_attribute_value(assignee)?,
                    )
                    .expression_attribute_values(
                        ":assigneePartition",
                        s(assignee_partition(Some(&assignee.admin_id))),
                    ),
                ", assignedTo = :assignee, GSI5PK = :assigneePartition",
                " AND attribute_not_exists(assignedTo)",
            ),
            Self::HeldBy(admin_id) => (
                update.expression_attribute_values(":holder", s(admin_id.clone())),
                "",
                " AND assignedTo.adminId = :holder",
            ),
        })
    }
}

impl ChatStore {
    /// Active sessions `admin_id` holds (or, for `None`, nobody holds), newest first: one
    /// Query on the sparse, keys-only assignee index and one BatchGetItem of the page's
    /// sessions and the counter.
    pub async fn assigned_sessions(
        &self,
        admin_id: Option<&str>,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<SessionsPage, StoreError> {
        let partition = assignee_partition(admin_id);
        // Nobody's chats are every dashboard's list; one agent's are only that agent's.
        let list = match admin_id {
            None => SessionIndex::shared(ASSIGNEE_INDEX, partition),
            Some(_) => SessionIndex::one_agents(ASSIGNEE_INDEX, partition),
        };
        self.session_page(list, false, limit, cursor).await
    }

    /// Changes an active session's holder and logs it, in one transaction.
    pub async fn reassign(&self, change: Reassign<'_>) -> Result<ReassignOutcome, StoreError> {
        let mut condition = "#status = :active".to_owned();
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(session_key(change.session)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let holder = match (change.if_unassigned, change.if_held_by) {
            (true, Some(_)) => {
                " AND (attribute_not_exists(assignedTo) OR assignedTo.adminId = :me)"
            }
            (true, None) => " AND attribute_not_exists(assignedTo)",
            (false, Some(_)) => " AND assignedTo.adminId = :me",
            (false, None) => " AND attribute_exists(assignedTo)",
        };
        condition.push_str(holder);
        if let Some(me) = change.if_held_by {
            update = update.expression_attribute_values(":me", s(me));
        }
        let partition = s(assignee_partition(change.to.map(|a| a.admin_id.as_str())));
        update = match change.to {
            Some(assignee) => update
                .update_expression("SET assignedTo = :assignee, GSI5PK = :partition")
                .expression_attribute_values(
                    ":assignee",
                    serde_dynamo::to_attribute_value(assignee)?,
                ),
            None => update.update_expression("SET GSI5PK = :partition REMOVE assignedTo"),
        }
        .expression_attribute_values(":partition", partition);
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(built(update.condition_expression(condition).build())?)
                .build(),
            self.put_if_new(serde_dynamo::to_item(change.activity)?)?,
        ];
        if let Some(target) = change.target_active {
            writes.push(self.agent_is_active(target)?);
        }
        let cancelled = match self.transact_or_cancellation(writes).await? {
            Ok(()) => return Ok(ReassignOutcome::Done),
            Err(cancelled) => cancelled,
        };
        if cancelled.refused(0) {
            let old: Option<SessionItem> = cancelled.old_item(0)?;
            return Ok(ReassignOutcome::Refused(old.map(Box::new)));
        }
        if cancelled.refused(2) {
            return Ok(ReassignOutcome::TargetInactive);
        }
        if cancelled.conflicted() {
            return Ok(ReassignOutcome::Conflict);
        }
        Err(cancelled.into_error())
    }

    /// A transaction item that holds only while `admin_id` is an active agent.
    fn agent_is_active(&self, admin_id: &str) -> Result<TransactWriteItem, StoreError> {
        let key: Item = HashMap::from([
            ("PK".to_owned(), s(admin_pk(admin_id))),
            ("SK".to_owned(), s(ADMIN_SK)),
        ]);
        let check = built(
            ConditionCheck::builder()
                .table_name(self.table())
                .set_key(Some(key))
                .condition_expression("active = :true")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}
