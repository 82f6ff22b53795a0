//! The list hint: at most one `lists.changed` per `LIST_HINT_MS` to every agent's connection,
//! whatever the number of consumers and shards, and never a change left unannounced.

use super::events;
use super::sender::{is_settled, PostError, PushSender, CONCURRENT_POSTS};
use crate::chat::ActiveSessionView;
use crate::store::items::ConnectionItem;
use crate::store::HintTurn;
use crate::{App, ChatError};
use futures_util::stream::{self, StreamExt};

/// Sends one `lists.changed` to every agent's connection, if this invocation wins the turn
/// (at most one per `LIST_HINT_MS` across every consumer). A loser notes its sessions as
/// missed and waits for the next turn, once: then either it sends, or the invocation that
/// took that turn read the note and sent those sessions' rows too. A change is never left
/// unannounced, and a hint is `truncated` (lists re-read) only when it cannot carry them all.
pub(super) async fn send(
    app: &App,
    sender: &PushSender,
    rows: Vec<ActiveSessionView>,
    id: String,
) -> Result<(), ChatError> {
    let store = app.chat.store();
    let interval = app.config().list_hint_interval;
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    let mut turn = store
        .claim_list_hint(app.chat.now().timestamp_millis(), interval_ms)
        .await?;
    if let HintTurn::TakenUntil(until) = turn {
        let named: Vec<_> = rows.iter().map(|row| row.session_id.clone()).collect();
        store.miss_list_hint(&named).await?;
        let wait = until - app.chat.now().timestamp_millis();
        tokio::time::sleep(std::time::Duration::from_millis(
            wait.clamp(0, interval_ms) as u64
        ))
        .await;
        turn = store
            .claim_list_hint(app.chat.now().timestamp_millis(), interval_ms)
            .await?;
    }
    let HintTurn::Mine { missed } = turn else {
        tracing::info!("list hint covered by another invocation's");
        return Ok(());
    };
    // The rows of changes others could not announce (read now: as they are, which is what
    // the lists show), after this invocation's own.
    let mut rows = rows;
    let unknown: Vec<_> = missed
        .sessions
        .into_iter()
        .filter(|id| rows.iter().all(|row| &row.session_id != id))
        .collect();
    let mut truncated = missed.unnamed;
    if unknown.len() + rows.len() > events::LIST_HINT_ROWS {
        truncated = true;
    } else if !unknown.is_empty() {
        rows.extend(
            store
                .sessions_by_id(&unknown)
                .await?
                .into_iter()
                .map(ActiveSessionView::from),
        );
    }
    let now = app.chat.now();
    let frame = events::list_hint(rows, truncated, id, now).to_json();
    let connections = store.agent_connections(now.timestamp()).await?;
    let outcomes: Vec<(ConnectionItem, Result<(), PostError>)> = stream::iter(connections)
        .map(|connection| {
            let frame = &frame;
            async move {
                let result = sender.post(&connection.connection_id, frame).await;
                (connection, result)
            }
        })
        .buffer_unordered(CONCURRENT_POSTS)
        .collect()
        .await;
    let mut undelivered = false;
    for (connection, result) in outcomes {
        match result {
            Ok(()) => {}
            Err(PostError::Gone) if is_settled(&connection, now) => {
                if let Err(err) = store
                    .forget_connection(&connection.pk, &connection.connection_id)
                    .await
                {
                    tracing::warn!(error = %err, connection = %connection.connection_id, "could not forget a gone connection");
                }
            }
            Err(PostError::Gone) => {}
            Err(PostError::Failed(detail)) => {
                tracing::warn!(error = %detail, connection = %connection.connection_id, "list hint post failed");
                undelivered = true;
            }
        }
    }
    if undelivered {
        // That agent's next hint makes their lists re-read.
        store.miss_list_hint(&[]).await?;
    }
    Ok(())
}
