//! The activity log: what support agents did, in the session's partition and two indexes.

use super::items::*;
use super::keys::*;
use super::page::{Listing, Page, PageCursor};
use super::{s, ChatStore, StoreError};
use crate::ids::SessionId;

/// Which part of the activity log to read.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub admin_id: Option<String>,
    pub session_id: Option<SessionId>,
}

impl ChatStore {
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
        if filter.session_id.is_none() && admin_partition.is_some() {
            // One agent's entries are on GSI1, which projects keys only (see the template).
            let keyed = self.keyed_page(query, listing, limit, cursor, &[]).await?;
            return Ok(keyed.page);
        }
        self.query_page(query, Some(limit), cursor.map(|c| (c, listing)))
            .await
    }
}
