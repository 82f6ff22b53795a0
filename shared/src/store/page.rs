//! Listings a page at a time, and the cursors that continue them.

use super::keys::*;
use super::{decode, s, ChatStore, Item, StoreError};
use crate::ids::SessionId;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// A page of a keys-only index at most: its keys and one more item (the session list's
/// counter) fit in one BatchGetItem, which takes 100 keys.
pub const MAX_KEYED_PAGE: i32 = 99;

/// How often a BatchGetItem is sent again for the keys DynamoDB left unprocessed.
const BATCH_GET_ATTEMPTS: u32 = 5;

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

    pub(crate) fn from_key(key: &Item) -> Option<Self> {
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

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageCursor>,
}

/// A page of a keys-only index, with the other items read in the same request.
#[derive(Debug)]
pub struct KeyedPage<T> {
    pub page: Page<T>,
    /// The items asked for alongside the page, in the order asked (`None`: not stored).
    pub also: Vec<Option<Item>>,
}

fn table_key(item: &Item) -> Option<Item> {
    let pk = item.get("PK")?.clone();
    let sk = item.get("SK")?.clone();
    Some(HashMap::from([
        ("PK".to_owned(), pk),
        ("SK".to_owned(), sk),
    ]))
}

fn key_text(key: &Item) -> Option<(String, String)> {
    let text = |name: &str| key.get(name)?.as_s().ok().cloned();
    Some((text("PK")?, text("SK")?))
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
        let page = self.query_raw(query, limit, cursor).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(decode)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    pub(crate) async fn query_raw(
        &self,
        query: QueryFluentBuilder,
        limit: Option<i32>,
        cursor: Option<(&PageCursor, Listing<'_>)>,
    ) -> Result<Page<Item>, StoreError> {
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
        let next = output
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .and_then(|k| PageCursor::from_key(&k));
        Ok(Page {
            items: output.items.unwrap_or_default(),
            next,
        })
    }

    /// One page of an index that projects keys only (so that the frequent updates of the
    /// items it lists, e.g. active sessions, never write to the index's one partition): a
    /// Query for the page's keys, then one BatchGetItem for those items and the items in
    /// `also`. Two requests whatever the page size; see [`ChatStore::read_listed`].
    pub(crate) async fn keyed_page<T: DeserializeOwned>(
        &self,
        query: QueryFluentBuilder,
        listing: Listing<'_>,
        limit: i32,
        cursor: Option<&PageCursor>,
        also: &[Item],
    ) -> Result<KeyedPage<T>, StoreError> {
        let keys = self.index_keys(query, listing, limit, cursor).await?;
        self.read_listed(keys, listing, also).await
    }

    /// A page of keys of a keys-only index: one Query of at most [`MAX_KEYED_PAGE`] keys.
    pub(crate) async fn index_keys(
        &self,
        query: QueryFluentBuilder,
        listing: Listing<'_>,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<Page<Item>, StoreError> {
        if !matches!(listing, Listing::Sessions { .. } | Listing::Activity { .. }) {
            return Err(StoreError::Request("not an index listing".to_owned()));
        }
        let limit = limit.clamp(1, MAX_KEYED_PAGE);
        self.query_raw(query, Some(limit), cursor.map(|c| (c, listing)))
            .await
    }

    /// The items a page of index keys names and the items in `also`: one BatchGetItem. The
    /// page keeps the index's order; an item that left the index's partition since the keys
    /// were read (a session that ended, or is no longer waiting) is left out.
    pub(crate) async fn read_listed<T: DeserializeOwned>(
        &self,
        keys: Page<Item>,
        listing: Listing<'_>,
        also: &[Item],
    ) -> Result<KeyedPage<T>, StoreError> {
        let (index, partition) = match listing {
            Listing::Sessions { index, partition } | Listing::Activity { index, partition } => {
                (index, partition)
            }
            Listing::SessionActivity { .. } | Listing::Internal => {
                return Err(StoreError::Request("not an index listing".to_owned()))
            }
        };
        let item_keys: Vec<Item> = keys.items.iter().filter_map(table_key).collect();
        let wanted: Vec<Item> = item_keys.iter().chain(also).cloned().collect();
        let mut found: HashMap<(String, String), Item> = self
            .batch_get(wanted, false)
            .await?
            .into_iter()
            .filter_map(|item| Some((key_text(&item)?, item)))
            .collect();
        let mut take = |key: &Item| key_text(key).and_then(|k| found.remove(&k));
        let index_pk = format!("{index}PK");
        let still_listed = |item: &Item| {
            item.get(&index_pk)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(partition)
        };
        let items = item_keys
            .iter()
            .filter_map(&mut take)
            .filter(still_listed)
            .map(decode)
            .collect::<Result<Vec<T>, _>>()?;
        let also = also.iter().map(&mut take).collect();
        Ok(KeyedPage {
            page: Page {
                items,
                next: keys.next,
            },
            also,
        })
    }

    /// The stored items among `keys` (at most 100, no key twice), in any order: one
    /// BatchGetItem (eventually consistent reads cost half the units: listings, which may be
    /// a moment behind anyway, use them), sent again only for keys DynamoDB leaves
    /// unprocessed, a few times with a short backoff, then [`StoreError::Unavailable`].
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        if keys.is_empty() {
            return Ok(items);
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(consistent)
            .build()
            .map_err(|e| StoreError::Request(e.to_string()))?;
        let mut request = HashMap::from([(self.table().to_owned(), request)]);
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
            let output = self
                .client()
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await?;
            items.extend(
                output
                    .responses
                    .and_then(|mut r| r.remove(self.table()))
                    .unwrap_or_default(),
            );
            match output.unprocessed_keys.filter(|k| !k.is_empty()) {
                Some(rest) => request = rest,
                None => return Ok(items),
            }
        }
        // Unprocessed keys are DynamoDB shedding load.
        Err(StoreError::Unavailable(format!(
            "BatchGetItem left keys unprocessed after {BATCH_GET_ATTEMPTS} attempts"
        )))
    }
}
