//! Listings a page at a time, and the cursors that continue them.

use super::keys::*;
use super::{decode, s, ChatStore, Item, StoreError};
use crate::ids::SessionId;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

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
        let session_of = |pk: Option<&str>| pk.and_then(session_of_pk);
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
                        && get("PK").is_some_and(is_activity_partition)
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

/// Where activity entries live: a session's partition, an agent's (a sign-in lock), or the
/// canned replies'.
fn is_activity_partition(pk: &str) -> bool {
    session_of_pk(pk).is_some() || pk.starts_with("ADMIN#") || pk == CANNED_PK
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageCursor>,
}

impl ChatStore {
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
}
