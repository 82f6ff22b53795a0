//! From a committed change to the client that shows it: each message's commit instant (the
//! moment its sender's request got its 200, in loadgen's clock) and the moment a client first
//! had it, by the path that brought it.

use crate::stats::percentile;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

/// How a message reached a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// The shipped app's 2 s poll.
    Poll,
    /// A `message.created` frame.
    Push,
    /// The read from the cursor on each (re)connect, after a gap, and on the way out.
    CatchUp,
    /// A push client that could not connect, polling as the shipped app does.
    FallbackPoll,
    /// The dashboard's transcript reads (opening a chat, the 2 s open-chat poll).
    Transcript,
}

impl Path {
    pub fn label(self) -> &'static str {
        match self {
            Path::Poll => "app poll (2 s)",
            Path::Push => "push frame",
            Path::CatchUp => "catch-up read",
            Path::FallbackPoll => "fallback poll",
            Path::Transcript => "transcript read",
        }
    }
}

/// One first receipt.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub session_id: String,
    pub message_id: String,
    pub at: Instant,
    pub path: Path,
}

/// Message ids are sequences per session: a message is its session and its id.
type Key = (String, String);

#[derive(Debug, Default)]
pub struct Timeline {
    committed: Mutex<HashMap<Key, Instant>>,
    /// Customer messages, the first time an agent serving the chat had them.
    agents_saw: Mutex<HashMap<Key, (Instant, Path)>>,
}

impl Timeline {
    /// A send got its 200 now.
    pub fn committed(&self, session_id: &str, message_id: &str) {
        self.committed
            .lock()
            .unwrap()
            .entry((session_id.to_owned(), message_id.to_owned()))
            .or_insert_with(Instant::now);
    }

    /// An agent had a customer message (kept only the first time, by any dashboard).
    pub fn agent_saw(&self, session_id: &str, message_id: &str, at: Instant, path: Path) {
        self.agents_saw
            .lock()
            .unwrap()
            .entry((session_id.to_owned(), message_id.to_owned()))
            .or_insert((at, path));
    }

    /// Latency rows: replies reaching customers (from `receipts`), customer messages reaching
    /// agents (recorded here).
    pub fn latencies(&self, receipts: &[Receipt]) -> Vec<LatencyRow> {
        let committed = self.committed.lock().unwrap();
        let mut rows = Vec::new();
        let mut collect = |direction: &'static str, items: Vec<(Key, Instant, Path)>| {
            let mut by_path: BTreeMap<Path, (Vec<u64>, u64)> = BTreeMap::new();
            for (key, at, path) in items {
                let Some(commit) = committed.get(&key) else {
                    continue;
                };
                let entry = by_path.entry(path).or_default();
                match at.checked_duration_since(*commit) {
                    Some(latency) => entry.0.push(latency.as_micros() as u64),
                    // The frame beat the sender's 200 home: counted as 0.
                    None => {
                        entry.0.push(0);
                        entry.1 += 1;
                    }
                }
            }
            for (path, (mut values, early)) in by_path {
                values.sort_unstable();
                rows.push(LatencyRow {
                    direction,
                    path,
                    path_label: path.label(),
                    count: values.len() as u64,
                    p50_ms: percentile(&values, 50.0) as f64 / 1000.0,
                    p99_ms: percentile(&values, 99.0) as f64 / 1000.0,
                    max_ms: values.last().copied().unwrap_or(0) as f64 / 1000.0,
                    before_the_200: early,
                });
            }
        };
        collect(
            "reply to customer",
            receipts
                .iter()
                .map(|r| ((r.session_id.clone(), r.message_id.clone()), r.at, r.path))
                .collect(),
        );
        let seen = self.agents_saw.lock().unwrap();
        collect(
            "customer message to agent",
            seen.iter()
                .map(|(key, (at, path))| (key.clone(), *at, *path))
                .collect(),
        );
        rows
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatencyRow {
    pub direction: &'static str,
    pub path: Path,
    pub path_label: &'static str,
    /// Messages whose first receipt came this way.
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Received before the sender's request returned (counted as 0 ms).
    pub before_the_200: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn latency_runs_from_the_200_to_the_first_receipt_per_path() {
        let timeline = Timeline::default();
        timeline.committed("chat_a", "msg_000000000002");
        std::thread::sleep(Duration::from_millis(2));
        timeline.committed("chat_a", "msg_000000000004");
        // The same id in another session is another message.
        timeline.committed("chat_b", "msg_000000000002");
        let commit = *timeline
            .committed
            .lock()
            .unwrap()
            .get(&("chat_a".to_owned(), "msg_000000000002".to_owned()))
            .unwrap();
        let receipts = vec![
            Receipt {
                session_id: "chat_a".into(),
                message_id: "msg_000000000002".into(),
                at: commit + Duration::from_millis(300),
                path: Path::Push,
            },
            Receipt {
                session_id: "chat_a".into(),
                message_id: "msg_000000000004".into(),
                at: commit,
                path: Path::CatchUp,
            },
            // Never committed by a send loadgen saw: not measured.
            Receipt {
                session_id: "chat_a".into(),
                message_id: "msg_000000000009".into(),
                at: commit,
                path: Path::Push,
            },
        ];
        timeline.agent_saw("chat_a", "msg_000000000001", commit, Path::Transcript);
        let rows = timeline.latencies(&receipts);
        assert_eq!(rows.len(), 2, "{rows:?}");
        let push = &rows[0];
        assert_eq!((push.path, push.count), (Path::Push, 1));
        assert!((push.p50_ms - 300.0).abs() < 1.0, "{push:?}");
        let catch_up = &rows[1];
        assert_eq!(catch_up.path, Path::CatchUp);
        // Committed a moment after `commit` was read: received "before the 200".
        assert_eq!(catch_up.before_the_200, 1);
        assert_eq!(catch_up.p50_ms, 0.0);
    }
}
