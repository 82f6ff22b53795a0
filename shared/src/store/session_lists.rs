//! The agents' session lists: a page of a sparse, keys-only index of active sessions, read
//! with the page's session items and the active-session counter (two requests a page).

use super::items::SessionItem;
use super::keys::*;
use super::page::{KeyedPage, Listing, Page, PageCursor};
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
        self.session_page(ACTIVE_INDEX, ACTIVE_PARTITION, false, limit, cursor)
            .await
    }

    /// One page of a sparse index of sessions (the cursor must be one this list issued) and
    /// the active-session counter, read with the page's sessions (see
    /// [`ChatStore::keyed_page`]).
    pub(super) async fn session_page(
        &self,
        index: &'static str,
        partition: &str,
        oldest_first: bool,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<SessionsPage, StoreError> {
        let query = self
            .client()
            .query()
            .index_name(index)
            .key_condition_expression("#partition = :partition")
            .expression_attribute_names("#partition", format!("{index}PK"))
            .expression_attribute_values(":partition", s(partition))
            .scan_index_forward(oldest_first);
        let listing = Listing::Sessions { index, partition };
        let KeyedPage { page, also } = self
            .keyed_page(query, listing, limit, cursor, &[counter_key()])
            .await?;
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
        self.session_page(WAITING_INDEX, WAITING_PARTITION, true, limit, cursor)
            .await
    }
}
