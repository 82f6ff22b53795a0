//! Admin accounts, the activity log, and the admin's views of sessions.

use super::items::*;
use super::ChatStore;
use super::{decode, n, s, session_key, written, Item, StoreError};
use crate::ids::SessionId;
use crate::model::SessionStatus;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, Select, TransactWriteItem, Update};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};

/// Where the next page starts: DynamoDB's LastEvaluatedKey, opaque to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor(String);

/// Key attributes a cursor may carry; anything else is not one of ours.
const CURSOR_KEYS: [&str; 6] = ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"];

impl PageCursor {
    pub fn parse(text: &str) -> Option<Self> {
        Self(text.to_owned())
            .to_key()
            .map(|_| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn from_key(key: &Item) -> Option<Self> {
        let strings: BTreeMap<&str, &str> = key
            .iter()
            .map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
            .collect::<Option<_>>()?;
        let json = serde_json::to_vec(&strings).ok()?;
        Some(Self(URL_SAFE_NO_PAD.encode(json)))
    }

    fn to_key(&self) -> Option<Item> {
        let json = URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        let strings: BTreeMap<String, String> = serde_json::from_slice(&json).ok()?;
        let known =
            !strings.is_empty() && strings.keys().all(|k| CURSOR_KEYS.contains(&k.as_str()));
        known.then(|| strings.into_iter().map(|(k, v)| (k, s(v))).collect())
    }
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageCursor>,
}

/// Which part of the activity log to read.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub admin_id: Option<String>,
    pub session_id: Option<SessionId>,
}

pub struct AdminEnd<'a> {
    pub session: &'a SessionId,
    pub end_time: &'a str,
    pub admin_id: &'a str,
    pub expires_at: i64,
    pub activity: &'a ActivityItem,
}

fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Request(e.to_string()))
}

impl ChatStore {
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

    async fn query_page<T: DeserializeOwned>(
        &self,
        query: QueryFluentBuilder,
        limit: Option<i32>,
        cursor: Option<&PageCursor>,
    ) -> Result<Page<T>, StoreError> {
        let start = match cursor {
            Some(cursor) => Some(
                cursor
                    .to_key()
                    .ok_or_else(|| StoreError::Request("bad cursor".into()))?,
            ),
            None => None,
        };
        let output = query
            .table_name(self.table())
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<T>, _>>()?;
        let next = output
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .and_then(|k| PageCursor::from_key(&k));
        Ok(Page { items, next })
    }

    /// Active sessions, newest first: one Query on the sparse index.
    pub async fn active_sessions(
        &self,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<Page<SessionItem>, StoreError> {
        let query = self
            .client()
            .query()
            .index_name(ACTIVE_INDEX)
            .key_condition_expression("GSI1PK = :active")
            .expression_attribute_values(":active", s(ACTIVE_PARTITION))
            .scan_index_forward(false);
        self.query_page(query, Some(limit), cursor).await
    }

    /// How many sessions are active (reads only the index keys' count, page by page).
    pub async fn count_active_sessions(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(ACTIVE_INDEX)
                .key_condition_expression("GSI1PK = :active")
                .expression_attribute_values(":active", s(ACTIVE_PARTITION))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            total += output.count.max(0) as u64;
            match output.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(key) => start = Some(key),
                None => return Ok(total),
            }
        }
    }

    /// Ends a session for a support agent and logs it, in one transaction.
    /// Returns false (nothing written) when the session is not active.
    pub async fn end_session_by_admin(&self, end: AdminEnd<'_>) -> Result<bool, StoreError> {
        let update = built(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(session_key(end.session)))
                .update_expression(
                    "SET #status = :status, endTime = :end, endedBy = :by, expiresAt = :expires \
                     REMOVE GSI1PK, GSI1SK, waitingSince",
                )
                .condition_expression("#status = :active")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
                .expression_attribute_values(":status", s(SessionStatus::EndedByAdmin.as_str()))
                .expression_attribute_values(":end", s(end.end_time))
                .expression_attribute_values(":by", s(end.admin_id))
                .expression_attribute_values(":expires", n(end.expires_at))
                .build(),
        )?;
        let writes = vec![
            TransactWriteItem::builder().update(update).build(),
            self.put_if_new(serde_dynamo::to_item(end.activity)?)?,
        ];
        self.transact_if(writes).await
    }

    /// Runs a transaction; false when a condition refused it.
    async fn transact_if(&self, writes: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        match self
            .client()
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(true),
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

    /// One log entry on its own (a viewed session: no other state changes with it).
    pub async fn put_activity(&self, activity: &ActivityItem) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(serde_dynamo::to_item(activity)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    /// The activity log, newest first.
    pub async fn activity(
        &self,
        filter: &ActivityFilter,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<Page<ActivityItem>, StoreError> {
        let query = self.client().query().scan_index_forward(false);
        let query = match (&filter.session_id, &filter.admin_id) {
            (Some(session), admin) => {
                let query = query
                    .key_condition_expression("PK = :pk AND begins_with(SK, :act)")
                    .expression_attribute_values(":pk", s(session_pk(session)))
                    .expression_attribute_values(":act", s(ACTIVITY_SK_PREFIX));
                match admin {
                    Some(admin) => query
                        .filter_expression("adminId = :admin")
                        .expression_attribute_values(":admin", s(admin.clone())),
                    None => query,
                }
            }
            (None, Some(admin)) => query
                .index_name(ACTIVE_INDEX)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(admin_activity_partition(admin))),
            (None, None) => query
                .index_name(ALL_INDEX)
                .key_condition_expression("GSI2PK = :pk")
                .expression_attribute_values(":pk", s(ACTIVITY_ALL_PARTITION)),
        };
        self.query_page(query, Some(limit), cursor).await
    }

    /// Creates an admin unless the id or the email is taken (then returns false).
    pub async fn create_admin(&self, admin: &AdminItem) -> Result<bool, StoreError> {
        let email = AdminEmailItem {
            pk: admin_email_pk(&admin.email),
            sk: ADMIN_EMAIL_SK.to_owned(),
            entity: Entity::AdminEmail,
            admin_id: admin.admin_id.clone(),
        };
        let writes = vec![
            self.put_if_new(serde_dynamo::to_item(admin)?)?,
            self.put_if_new(serde_dynamo::to_item(&email)?)?,
        ];
        self.transact_if(writes).await
    }

    pub async fn admin(&self, admin_id: &str) -> Result<Option<AdminItem>, StoreError> {
        self.get(admin_pk(admin_id), ADMIN_SK).await
    }

    pub async fn admin_by_email(&self, email: &str) -> Result<Option<AdminItem>, StoreError> {
        let Some(link) = self
            .get::<AdminEmailItem>(admin_email_pk(email), ADMIN_EMAIL_SK)
            .await?
        else {
            return Ok(None);
        };
        self.admin(&link.admin_id).await
    }

    pub async fn admins(&self) -> Result<Vec<AdminItem>, StoreError> {
        let mut admins = Vec::new();
        let mut cursor = None;
        loop {
            let query = self
                .client()
                .query()
                .index_name(ALL_INDEX)
                .key_condition_expression("GSI2PK = :pk")
                .expression_attribute_values(":pk", s(ADMIN_LIST_PARTITION));
            let page: Page<AdminItem> = self.query_page(query, None, cursor.as_ref()).await?;
            admins.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(admins),
            }
        }
    }

    /// Changes an existing admin (never creates one); false if there is none.
    pub async fn update_admin(
        &self,
        admin_id: &str,
        change: AdminChange<'_>,
    ) -> Result<bool, StoreError> {
        let key = HashMap::from([
            ("PK".to_owned(), s(admin_pk(admin_id))),
            ("SK".to_owned(), s(ADMIN_SK)),
        ]);
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key))
            .condition_expression("attribute_exists(PK)");
        // Every change retires the tokens issued before it, in the same write.
        let bump = "tokenGeneration = if_not_exists(tokenGeneration, :zero) + :one";
        let request = request
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        let request = match change {
            AdminChange::Active(active) => request
                .update_expression(format!("SET active = :active, {bump}"))
                .expression_attribute_values(":active", AttributeValue::Bool(active)),
            AdminChange::Password { hash, changed_at } => request
                .update_expression(format!(
                    "SET passwordHash = :hash, passwordChangedAt = :at, {bump}"
                ))
                .expression_attribute_values(":hash", s(hash))
                .expression_attribute_values(":at", n(changed_at)),
        };
        written(request.send().await)
    }
}

pub enum AdminChange<'a> {
    Active(bool),
    Password { hash: &'a str, changed_at: i64 },
}
