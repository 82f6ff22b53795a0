//! The agents' session lists: a page of a sparse, keys-only index of active sessions, read
//! with the page's session items and the active-session counter (two requests a page).

use super::items::SessionItem;
use super::keys::*;
use super::list_heads::{ListHead, HEAD_KEYS};
use super::page::{KeyedPage, Listing, Page, PageCursor, MAX_KEYED_PAGE};
use super::sessions::{active_count_in, counter_key};
use super::{s, ChatStore, StoreError};

/// A page of a session list and the number of active sessions, read together.
#[derive(Debug)]
pub struct SessionsPage {
    pub sessions: Page<SessionItem>,
    pub active_count: u64,
}

impl ChatStore {
    /// Active sessions, newest first, and the active-session count: two requests.
    pub async fn active_sessions(
        &self,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<SessionsPage, StoreError> {
        let list = SessionIndex::shared(ACTIVE_INDEX, ACTIVE_PARTITION.to_owned());
        self.session_page(list, false, limit, cursor).await
    }

    /// One page of a sparse index of sessions (the cursor must be one this list issued) and
    /// the active-session counter, read with the page's sessions (see
    /// [`ChatStore::keyed_page`]). A page of a list every dashboard reads may come from the
    /// list's head that this instance read a moment ago ([`ListHeadCache`](super::ListHeadCache)): then only the
    /// BatchGetItem is sent.
    pub(super) async fn session_page(
        &self,
        list: SessionIndex,
        oldest_first: bool,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<SessionsPage, StoreError> {
        let SessionIndex {
            index,
            partition,
            shared,
        } = list;
        let listing = Listing::Sessions {
            index,
            partition: &partition,
        };
        let start = match cursor {
            Some(cursor) => Some(cursor.key_for(listing).ok_or(StoreError::ForeignCursor)?),
            None => None,
        };
        let query = || {
            self.client()
                .query()
                .index_name(index)
                .key_condition_expression("#partition = :partition")
                .expression_attribute_names("#partition", format!("{index}PK"))
                .expression_attribute_values(":partition", s(&partition))
                .scan_index_forward(oldest_first)
        };
        let cache = self.list_heads().filter(|_| shared);
        let list_key = (index, partition.clone());
        let cached = cache
            .and_then(|cache| cache.get(&list_key))
            .and_then(|head| head.page(limit, start.as_ref()));
        let keys = match (cached, cache, cursor) {
            (Some(keys), _, _) => keys,
            // The list's head is read for the first page; a later page outside the head
            // that this instance holds is read on its own.
            (None, Some(cache), None) => {
                let keys = self.query_raw(query(), Some(HEAD_KEYS), None).await?;
                let head = ListHead::new(keys, index);
                cache.keep(list_key, &head);
                head.page(limit, None).ok_or_else(|| {
                    StoreError::Request("a list head holds its first page".to_owned())
                })?
            }
            (None, _, _) => {
                let limit = limit.clamp(1, MAX_KEYED_PAGE);
                let cursor = cursor.map(|cursor| (cursor, listing));
                self.query_raw(query(), Some(limit), cursor).await?
            }
        };
        let KeyedPage { page, also } = self.read_listed(keys, listing, &[counter_key()]).await?;
        let counter = also.into_iter().next().flatten();
        Ok(SessionsPage {
            sessions: page,
            active_count: counter.as_ref().map_or(0, active_count_in),
        })
    }

    /// Sessions whose customer awaits an answer, longest wait first: two requests, as the list.
    pub async fn waiting_sessions(
        &self,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<SessionsPage, StoreError> {
        let list = SessionIndex::shared(WAITING_INDEX, WAITING_PARTITION.to_owned());
        self.session_page(list, true, limit, cursor).await
    }
}

/// A sparse index partition of sessions, and whether every dashboard reads it (then its first
/// page may be cached) or only one agent does (it must show the agent's own changes at once).
pub(super) struct SessionIndex {
    index: &'static str,
    partition: String,
    shared: bool,
}

impl SessionIndex {
    pub(super) fn shared(index: &'static str, partition: String) -> Self {
        Self {
            index,
            partition,
            shared: true,
        }
    }

    pub(super) fn one_agents(index: &'static str, partition: String) -> Self {
        Self {
            index,
            partition,
            shared: false,
        }
    }
}
