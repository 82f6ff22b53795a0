//! The head of each list every dashboard reads (all active chats, the waiting queue, the
//! unassigned chats): its first keys, kept by a function instance for a moment.
//!
//! Every dashboard asks for the same first pages every few seconds, and each of those lists
//! lives in one index partition: without this, 2,500 dashboards read the `WAITING` partition
//! at half its limit. An instance reads the first [`HEAD_KEYS`] keys of a list (two pages)
//! with one Query and answers the first page and any page that continues inside the head
//! from it until the head is a cache period old. Only keys are kept: the sessions themselves
//! are read afresh on every request and one that left the list is dropped, so a claimed or
//! ended chat vanishes at once; a chat that just joined a list may show up to one cache
//! period late, as it may anyway while the index catches up with the table.

use super::page::{Page, PageCursor, MAX_KEYED_PAGE};
use super::Item;
use crate::clock::Clock;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Keys read for a list's head: the dashboard's two pages of the waiting queue.
pub const HEAD_KEYS: i32 = 2 * MAX_KEYED_PAGE;

/// Which list: its index and partition.
pub(crate) type ListKey = (&'static str, String);

/// A list's first keys in the index's order, as one Query read them.
#[derive(Debug, Clone)]
pub(crate) struct ListHead {
    keys: Vec<Item>,
    /// The Query reached the end of the list: the head is the whole list.
    whole_list: bool,
    /// Which attributes say where a key is in the list (table and index keys).
    sort_by: [String; 2],
}

impl ListHead {
    pub(crate) fn new(page: Page<Item>, index: &str) -> Self {
        Self {
            whole_list: page.next.is_none(),
            keys: page.items,
            sort_by: ["PK".to_owned(), format!("{index}SK")],
        }
    }

    /// The page of `limit` keys after `start` (none: from the top), if the head holds it.
    pub(crate) fn page(&self, limit: i32, start: Option<&Item>) -> Option<Page<Item>> {
        let from = match start {
            None => 0,
            Some(start) => {
                let at = |key: &Item| self.sort_by.iter().all(|a| key.get(a) == start.get(a));
                self.keys.iter().position(at)? + 1
            }
        };
        let limit = usize::try_from(limit.clamp(1, MAX_KEYED_PAGE)).ok()?;
        let to = from + limit;
        if to > self.keys.len() && !self.whole_list {
            return None;
        }
        let to = to.min(self.keys.len());
        let items = self.keys[from..to].to_vec();
        let next = match (to == self.keys.len() && self.whole_list, items.last()) {
            (false, Some(last)) => Some(PageCursor::from_key(last)?),
            _ => None,
        };
        Some(Page { items, next })
    }
}

/// More lists than the dashboards read, so that an instance's memory stays bounded.
const MAX_ENTRIES: usize = 16;

pub struct ListHeadCache {
    keep_for: Duration,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<ListKey, (DateTime<Utc>, ListHead)>>,
}

impl std::fmt::Debug for ListHeadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListHeadCache")
            .field("keep_for", &self.keep_for)
            .finish_non_exhaustive()
    }
}

impl ListHeadCache {
    /// Heads are kept for `keep_for` on `clock`; a zero duration keeps nothing.
    pub fn new(keep_for: std::time::Duration, clock: Arc<dyn Clock>) -> Option<Self> {
        let keep_for = Duration::from_std(keep_for).ok()?;
        (keep_for > Duration::zero()).then(|| Self {
            keep_for,
            clock,
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// The kept head, if it was read less than the cache period ago (a clock that went back
    /// counts as stale).
    pub(crate) fn get(&self, list: &ListKey) -> Option<ListHead> {
        let now = self.clock.now();
        let entries = self.entries.lock().ok()?;
        let (read_at, head) = entries.get(list)?;
        let age = now - *read_at;
        (age >= Duration::zero() && age < self.keep_for).then(|| head.clone())
    }

    pub(crate) fn keep(&self, list: ListKey, head: &ListHead) {
        let now = self.clock.now();
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let keep_for = self.keep_for;
            entries.retain(|_, (read_at, _)| now - *read_at < keep_for);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(list, (now, head.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use aws_sdk_dynamodb::types::AttributeValue;

    /// A waiting session's index key, the n-th longest wait.
    fn waiting(n: usize) -> Item {
        let id = format!("chat_{n:022}");
        [
            ("PK", format!("SESSION#{id}")),
            ("SK", "SESSION".to_owned()),
            ("GSI4PK", "WAITING".to_owned()),
            (
                "GSI4SK",
                format!("2026-11-29T01:00:{:02}.000Z#{id}", n % 60),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), AttributeValue::S(v)))
        .collect()
    }

    fn head(count: usize, whole_list: bool) -> ListHead {
        let keys: Vec<Item> = (0..count).map(waiting).collect();
        let next = (!whole_list).then(|| PageCursor::from_key(&keys[count - 1]).unwrap());
        ListHead::new(Page { items: keys, next }, "GSI4")
    }

    #[test]
    fn pages_inside_the_head_are_served_from_it_and_their_cursors_continue_it() {
        let head = head(198, false);
        let first = head.page(99, None).unwrap();
        assert_eq!(first.items, (0..99).map(waiting).collect::<Vec<_>>());
        let start = first.next.as_ref().unwrap();
        let listing = super::super::page::Listing::Sessions {
            index: "GSI4",
            partition: "WAITING",
        };
        let start = start.key_for(listing).expect("a cursor the list accepts");
        let second = head.page(99, Some(&start)).unwrap();
        assert_eq!(second.items, (99..198).map(waiting).collect::<Vec<_>>());
        assert!(second.next.is_some(), "more may follow the head");
        // A third page is past the head: read from the index.
        let start = second.next.unwrap().key_for(listing).unwrap();
        assert!(head.page(1, Some(&start)).is_none());
        // A key the head does not hold (the list moved on): read from the index.
        assert!(head.page(10, Some(&waiting(500))).is_none());
    }

    #[test]
    fn a_head_that_is_the_whole_list_ends_it() {
        let head = head(30, true);
        let page = head.page(50, None).unwrap();
        assert_eq!(page.items.len(), 30);
        assert!(page.next.is_none());
        let page = head.page(10, Some(&waiting(19))).unwrap();
        assert_eq!(page.items, (20..30).map(waiting).collect::<Vec<_>>());
        assert!(page.next.is_none());
        assert!(head.page(10, Some(&waiting(29))).unwrap().items.is_empty());
    }

    #[test]
    fn a_head_is_kept_for_the_period_only_and_a_clock_that_went_back_forgets_it() {
        let clock = ManualClock::new(Utc::now());
        let cache = ListHeadCache::new(
            std::time::Duration::from_millis(1_000),
            Arc::new(clock.clone()),
        )
        .unwrap();
        let list = ("GSI4", "WAITING".to_owned());
        cache.keep(list.clone(), &head(3, true));
        assert_eq!(cache.get(&list).unwrap().keys.len(), 3);
        assert!(cache.get(&("GSI1", "ACTIVE".to_owned())).is_none());
        clock.advance(Duration::milliseconds(999));
        assert!(cache.get(&list).is_some());
        clock.advance(Duration::milliseconds(1));
        assert!(cache.get(&list).is_none());
        cache.keep(list.clone(), &head(1, true));
        clock.advance(Duration::milliseconds(-1));
        assert!(cache.get(&list).is_none());
    }

    #[test]
    fn many_lists_cannot_grow_the_cache_past_its_bound() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let cache = ListHeadCache::new(std::time::Duration::from_secs(1), clock).unwrap();
        for agent in 0..100 {
            cache.keep(("GSI5", format!("ASSIGNEE#{agent}")), &head(1, true));
            assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
        }
        assert!(cache.get(&("GSI5", "ASSIGNEE#99".to_owned())).is_some());
    }

    #[test]
    fn a_zero_period_keeps_nothing() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        assert!(ListHeadCache::new(std::time::Duration::ZERO, clock).is_none());
    }
}
