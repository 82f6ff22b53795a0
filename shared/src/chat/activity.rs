//! The agents' activity log: entries written with the actions they record, read newest first.

use super::{ChatError, ChatService};
use crate::clock::as_iso8601;
use crate::ids::SessionId;
use crate::store::items::{ActivityAction, ActivityItem, ActivitySubject};
use crate::store::{ActivityFilter, PageCursor};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub activity_id: String,
    pub admin_id: String,
    pub action: ActivityAction,
    pub session_id: String,
    pub details: serde_json::Value,
    #[serde(with = "as_iso8601")]
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityLog {
    pub entries: Vec<ActivityEntry>,
    pub next_cursor: Option<String>,
}

impl ChatService {
    /// An entry about `session_id` by `admin_id`, now; written by the caller, in the same
    /// transaction as the action it records where there is one.
    pub(crate) fn activity(
        &self,
        admin_id: &str,
        session_id: &SessionId,
        action: ActivityAction,
        details: serde_json::Value,
    ) -> ActivityItem {
        let now = self.now();
        let subject = ActivitySubject::Session(session_id);
        ActivityItem::new(
            admin_id,
            subject,
            action,
            details,
            now,
            self.expiry_from(now),
        )
    }

    /// The activity log, newest first.
    pub async fn activity_log(
        &self,
        filter: &ActivityFilter,
        limit: i32,
        cursor: Option<&PageCursor>,
    ) -> Result<ActivityLog, ChatError> {
        let page = self.store.activity(filter, limit, cursor).await?;
        Ok(ActivityLog {
            entries: page
                .items
                .into_iter()
                .map(|a| ActivityEntry {
                    activity_id: a.activity_id,
                    admin_id: a.admin_id,
                    action: a.action,
                    session_id: a.session_id,
                    details: a.details,
                    timestamp: a.timestamp,
                })
                .collect(),
            next_cursor: page.next.map(|c| c.as_str().to_owned()),
        })
    }
}
