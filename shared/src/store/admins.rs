//! Admin accounts, the activity log, and the admin's views of sessions.

use super::items::*;
use super::ChatStore;
use super::{decode, n, s, written, Item, StoreError};
use crate::ids::SessionId;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};

/// Where the next page starts: DynamoDB's LastEvaluatedKey, opaque to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor(String);

/// Which listing a cursor continues, so that only keys that listing can produce are accepted:
/// DynamoDB refuses an `ExclusiveStartKey` of another shape (a 500 if we passed it on).
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    /// Sessions on an index whose partition key attribute is `index` + "PK" (e.g. `GSI1`).
    Sessions { index: &'a str, partition: &'a str },
    /// Activity entries on an index (`GSI1`: one agent's, `GSI2`: everything).
    Activity { index: &'a str, partition: &'a str },
    /// One session's activity entries, in its own partition.
    SessionActivity { session: &'a SessionId },
    /// Our own listings (never from a request).
    Internal,
}

impl PageCursor {
    /// Decodes the outer form only; [`Listing`] decides whether its keys fit.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() <= 1024)
            .then(|| Self(text.to_owned()))
            .filter(|cursor| cursor.strings().is_some())
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

    fn strings(&self) -> Option<BTreeMap<String, String>> {
        let json = URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// The start key, if this cursor is one the listing itself could have handed out.
    pub(crate) fn key_for(&self, listing: Listing<'_>) -> Option<Item> {
        let strings = self.strings()?;
        let get = |name: &str| strings.get(name).map(String::as_str);
        let session_of = |pk: Option<&str>| {
            pk.and_then(|pk| pk.strip_prefix("SESSION#"))
                .and_then(SessionId::parse)
        };
        let index_keys = |index: &str, partition: &str| {
            let (pk, sk) = (format!("{index}PK"), format!("{index}SK"));
            let fits = get(&pk) == Some(partition)
                && get(&sk).is_some_and(|v| !v.is_empty() && v.len() <= 256);
            fits.then_some([pk, sk])
        };
        let fits = match listing {
            Listing::Internal => !strings.is_empty(),
            Listing::Sessions { index, partition } => {
                index_keys(index, partition).is_some_and(|names| {
                    let id = session_of(get("PK"));
                    strings.len() == 4
                        && names.iter().all(|n| strings.contains_key(n))
                        && get("SK") == Some(SESSION_SK)
                        && id.is_some_and(|id| {
                            get(&names[1]).is_some_and(|v| v.ends_with(&format!("#{id}")))
                        })
                })
            }
            Listing::Activity { index, partition } => {
                index_keys(index, partition).is_some_and(|names| {
                    strings.len() == 4
                        && names.iter().all(|n| strings.contains_key(n))
                        && session_of(get("PK")).is_some()
                        && get("SK").is_some_and(|sk| sk.starts_with(ACTIVITY_SK_PREFIX))
                })
            }
            Listing::SessionActivity { session } => {
                strings.len() == 2
                    && get("PK") == Some(session_pk(session).as_str())
                    && get("SK").is_some_and(|sk| sk.starts_with(ACTIVITY_SK_PREFIX))
            }
        };
        fits.then(|| strings.into_iter().map(|(k, v)| (k, s(v))).collect())
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

pub(crate) fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
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

    /// One page of a listing. A cursor that the listing could not have handed out is refused
    /// ([`StoreError::ForeignCursor`]) before anything is read.
    pub(crate) async fn query_page<T: DeserializeOwned>(
        &self,
        query: QueryFluentBuilder,
        limit: Option<i32>,
        cursor: Option<(&PageCursor, Listing<'_>)>,
    ) -> Result<Page<T>, StoreError> {
        let start = match cursor {
            Some((cursor, listing)) => {
                Some(cursor.key_for(listing).ok_or(StoreError::ForeignCursor)?)
            }
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
        let listing = Listing::Sessions {
            index: ACTIVE_INDEX,
            partition: ACTIVE_PARTITION,
        };
        self.query_page(query, Some(limit), cursor.map(|c| (c, listing)))
            .await
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
        let admin_partition = filter.admin_id.as_deref().map(admin_activity_partition);
        let listing = match (&filter.session_id, &admin_partition) {
            (Some(session), _) => Listing::SessionActivity { session },
            (None, Some(partition)) => Listing::Activity {
                index: ACTIVE_INDEX,
                partition,
            },
            (None, None) => Listing::Activity {
                index: ALL_INDEX,
                partition: ACTIVITY_ALL_PARTITION,
            },
        };
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
        self.query_page(query, Some(limit), cursor.map(|c| (c, listing)))
            .await
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
            let page: Page<AdminItem> = self
                .query_page(query, None, cursor.as_ref().map(|c| (c, Listing::Internal)))
                .await?;
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
