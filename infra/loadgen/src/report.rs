//! The result of a run: a one-screen summary, the JSON the cost model reads, and the verdict.

use crate::capacity::CapacityPerChat;
use crate::config::RunConfig;
use crate::delivery::DeliveryCheck;
use crate::push::{PartySummary, PushCounters, PushMode};
use crate::stats::{EndpointSummary, Party, RequestKind};
use crate::timeline::{LatencyRow, Path};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ChatCounts {
    pub planned: u64,
    /// Sessions created.
    pub started: u64,
    pub not_started: u64,
    pub left_by_customer: u64,
    pub ended_by_agent: u64,
    /// Still open at the deadline (then left): the run was too short for the script.
    pub cut_short: u64,
    /// The app stopped polling after repeated poll errors, as the shipped app does.
    pub gave_up_polling: u64,
    /// Not finished within the drain time after the deadline.
    pub abandoned: u64,
    pub rated: u64,
}

/// Replies by the path that first brought them to the customer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathRow {
    pub path: Path,
    pub path_label: &'static str,
    pub first_delivered: u64,
    /// Arrivals of a reply the customer already had (a push client drops them; the shipped
    /// app would show them, and the check counts them as duplicated).
    pub repeats_dropped: u64,
}

impl PathRow {
    pub fn new(path: Path) -> Self {
        PathRow {
            path,
            path_label: path.label(),
            first_delivered: 0,
            repeats_dropped: 0,
        }
    }
}

/// What one side did per chat started: REST requests (tickets apart), WebSocket connects,
/// and the frames its sockets received and sent (each a billed WebSocket message on AWS).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PartyRequests {
    pub rest: f64,
    pub tickets: f64,
    pub ws_connects: f64,
    pub ws_frames_received: f64,
    pub ws_frames_sent: f64,
    /// REST + tickets + connects: the requests the goals count.
    pub requests: f64,
}

/// The delivery check over some of the chats.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SubsetCheck {
    pub chats: u64,
    pub check: DeliveryCheck,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PushSummary {
    pub mode: PushMode,
    pub customers: PartySummary,
    pub agents: PartySummary,
    /// `message.created` frames agents got for chats another dashboard serves (one shared
    /// account here; none with one account per agent).
    pub agent_frames_for_other_dashboards: u64,
    /// Replies of chats on push that no frame brought (a catch-up read did).
    pub replies_not_pushed: u64,
    /// Chats whose customer socket was closed and replaced at least once.
    pub across_forced_reconnects: SubsetCheck,
    /// Chats whose customer polled because the socket would not connect.
    pub fell_back_to_polling: SubsetCheck,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Who used the push channel (`polling`: nobody, as today).
    pub mode: String,
    pub base_url: String,
    pub chats: u64,
    pub agents: u64,
    pub agents_signed_in: u64,
    pub time_scale: f64,
    /// The run's wall-clock bound and what it took (with the drain and the check).
    pub duration_s: f64,
    pub wall_s: f64,
    /// Chat time the scripts were spread over (`duration x time_scale`).
    pub simulated_s: f64,
    pub counts: ChatCounts,
    /// Mean chat length in chat time, from the session's creation to its end.
    pub mean_chat_s: f64,
    pub endpoints: Vec<EndpointSummary>,
    /// Requests per chat started, per endpoint (the after-run check excluded).
    pub per_chat: BTreeMap<String, f64>,
    pub delivery: DeliveryCheck,
    /// App polls that took longer than the poll interval (in wall time): the shipped app's
    /// `setInterval` would have started the next poll while this one ran (overlapping polls
    /// are not simulated; docs/contract.md §C4 says what they do).
    pub slow_polls: u64,
    pub server_errors: u64,
    pub transport_errors: u64,
    pub capacity: Option<CapacityPerChat>,
    /// From the sender's 200 to the first time the other side had the message (loadgen's
    /// clock), per path.
    pub latency: Vec<LatencyRow>,
    pub reply_paths: Vec<PathRow>,
    /// Per chat started, by who: `customers`, `agents`.
    pub by_party: BTreeMap<String, PartyRequests>,
    pub push: Option<PushSummary>,
    pub failures: Vec<String>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &RunConfig,
        agents: u64,
        agents_signed_in: u64,
        wall: Duration,
        counts: ChatCounts,
        chat_seconds: &[f64],
        slow_polls: u64,
        endpoints: Vec<EndpointSummary>,
        delivery: DeliveryCheck,
    ) -> Report {
        let started = counts.started.max(1) as f64;
        let per_chat = endpoints
            .iter()
            .filter(|e| e.in_chat_mix)
            .map(|e| (e.key.to_owned(), e.requests as f64 / started))
            .collect();
        let server_errors = endpoints.iter().map(|e| e.server_errors).sum();
        let transport_errors = endpoints.iter().map(|e| e.transport_errors).sum();
        let mean_chat_s = if chat_seconds.is_empty() {
            0.0
        } else {
            chat_seconds.iter().sum::<f64>() / chat_seconds.len() as f64
        };
        let mut report = Report {
            mode: match config.push.reconnect_every {
                Some(every) => format!(
                    "{} (every socket replaced every {} s of chat time)",
                    config.push.name(),
                    every.as_secs_f64()
                ),
                None => config.push.name().to_owned(),
            },
            base_url: config.base_url.clone(),
            chats: config.chats as u64,
            agents,
            agents_signed_in,
            time_scale: config.time_scale,
            duration_s: config.duration.as_secs_f64(),
            wall_s: wall.as_secs_f64(),
            simulated_s: config.duration.as_secs_f64() * config.time_scale,
            counts,
            mean_chat_s,
            endpoints,
            per_chat,
            delivery,
            slow_polls,
            server_errors,
            transport_errors,
            capacity: None,
            latency: Vec::new(),
            reply_paths: Vec::new(),
            by_party: BTreeMap::new(),
            push: None,
            failures: Vec::new(),
        };
        report.failures = report.find_failures();
        report
    }

    pub fn set_latency(&mut self, rows: Vec<LatencyRow>) {
        self.latency = rows;
    }

    pub fn set_reply_paths(&mut self, rows: Vec<PathRow>) {
        self.reply_paths = rows;
    }

    /// Requests per chat by who makes them, from the endpoints and the push counters.
    pub fn set_by_party(&mut self, counters: &PushCounters, time_scale: f64) {
        let started = self.counts.started.max(1) as f64;
        for (party, name, summary) in [
            (
                Party::Customer,
                "customers",
                counters.customers.summarize(time_scale),
            ),
            (
                Party::Agent,
                "agents",
                counters.agents.summarize(time_scale),
            ),
        ] {
            let mut row = PartyRequests::default();
            for e in self
                .endpoints
                .iter()
                .filter(|e| e.in_chat_mix && e.party == party)
            {
                let per_chat = e.requests as f64 / started;
                match e.kind {
                    RequestKind::Rest => row.rest += per_chat,
                    RequestKind::Ticket => row.tickets += per_chat,
                    RequestKind::WebSocketConnect => row.ws_connects += per_chat,
                }
            }
            row.ws_frames_received = summary.frames_received as f64 / started;
            row.ws_frames_sent = summary.pings_sent as f64 / started;
            row.requests = row.rest + row.tickets + row.ws_connects;
            self.by_party.insert(name.to_owned(), row);
        }
    }

    pub fn set_push(&mut self, push: PushSummary) {
        self.push = Some(push);
        self.failures = self.find_failures();
    }

    /// Why the run failed (empty: it passed).
    fn find_failures(&self) -> Vec<String> {
        let d = &self.delivery;
        let mut failures = Vec::new();
        let mut fail = |count: u64, what: &str| {
            if count > 0 {
                failures.push(format!("{count} {what}"));
            }
        };
        fail(d.lost, "lost replies");
        fail(d.duplicated, "duplicated replies");
        fail(d.out_of_order, "replies out of order");
        fail(d.unknown, "received ids that are not the chat's replies");
        fail(d.acknowledged_not_stored, "acknowledged replies not stored");
        fail(self.server_errors, "5xx answers");
        fail(self.transport_errors, "requests without an answer");
        fail(self.counts.abandoned, "chats not finished in time");
        if self.counts.started == 0 {
            failures.push("no chat started".into());
        }
        failures
    }

    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The one-screen summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let c = &self.counts;
        let _ = writeln!(
            out,
            "loadgen: {} chats, {} agents ({} signed in) against {}; {}",
            self.chats, self.agents, self.agents_signed_in, self.base_url, self.mode
        );
        let _ = writeln!(
            out,
            "time: {:.0} s run at x{} = {:.0} s of chat time; took {:.1} s with the check; mean chat {:.0} s (chat time)",
            self.duration_s, self.time_scale, self.simulated_s, self.wall_s, self.mean_chat_s
        );
        let _ = writeln!(
            out,
            "chats: {} started, {} left by the customer, {} ended by an agent, {} cut short at the deadline, {} gave up polling, {} not started, {} abandoned; {} rated",
            c.started, c.left_by_customer, c.ended_by_agent, c.cut_short, c.gave_up_polling, c.not_started, c.abandoned, c.rated
        );
        let _ = writeln!(
            out,
            "{:<37} {:>8} {:>8} {:>8} {:>8} {:>8}  errors",
            "endpoint", "requests", "per chat", "p50 ms", "p95 ms", "p99 ms"
        );
        for e in &self.endpoints {
            let per_chat = if e.in_chat_mix {
                format!(
                    "{:.2}",
                    e.requests as f64 / self.counts.started.max(1) as f64
                )
            } else {
                "-".into()
            };
            let errors = if e.errors.is_empty() {
                "0".to_owned()
            } else {
                e.errors
                    .iter()
                    .map(|(code, n)| format!("{code} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "{:<37} {:>8} {:>8} {:>8.1} {:>8.1} {:>8.1}  {errors}",
                e.label, e.requests, per_chat, e.p50_ms, e.p95_ms, e.p99_ms
            );
        }
        let d = &self.delivery;
        let _ = writeln!(
            out,
            "delivery: {} replies, {} received; lost {}, duplicated {}, out of order {}, unknown {}, acknowledged but not stored {}{}",
            d.replies,
            d.received,
            d.lost,
            d.duplicated,
            d.out_of_order,
            d.unknown,
            d.acknowledged_not_stored,
            if d.unverified_chats > 0 {
                format!(" ({} chats checked against acknowledged replies only)", d.unverified_chats)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            out,
            "app polls slower than the 2 s interval: {}",
            self.slow_polls
        );
        let _ = writeln!(
            out,
            "latency, from the sender's 200 to the other side having it (loadgen's clock):"
        );
        for row in &self.latency {
            let _ = writeln!(
                out,
                "  {:<26} by {:<16} {:>5} messages  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms{}",
                row.direction,
                row.path_label,
                row.count,
                row.p50_ms,
                row.p99_ms,
                row.max_ms,
                if row.before_the_200 > 0 {
                    format!(" ({} before the 200)", row.before_the_200)
                } else {
                    String::new()
                }
            );
        }
        let paths: Vec<String> = self
            .reply_paths
            .iter()
            .map(|p| {
                format!(
                    "{} {} ({} repeats dropped)",
                    p.path_label, p.first_delivered, p.repeats_dropped
                )
            })
            .collect();
        let _ = writeln!(out, "replies first delivered by: {}", paths.join(", "));
        for (party, row) in &self.by_party {
            let _ = writeln!(
                out,
                "per chat, {party:<9}: {:>6.2} requests = REST {:.2} + tickets {:.2} + WebSocket connects {:.2}; frames received {:.2}, sent {:.2}",
                row.requests, row.rest, row.tickets, row.ws_connects, row.ws_frames_received, row.ws_frames_sent
            );
        }
        if let Some(push) = &self.push {
            for (party, side) in [("customers", &push.customers), ("agents", &push.agents)] {
                if side.connects + side.connect_failures == 0 {
                    continue;
                }
                let frames: Vec<String> = side
                    .frames
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "push {party}: {} connects ({} failed, p50 {:.1} ms, p99 {:.1} ms), {} forced reconnects, {} lost connections, {} fell back to polling, {} pings; frames: {}",
                    side.connects,
                    side.connect_failures,
                    side.connect_p50_ms,
                    side.connect_p99_ms,
                    side.forced_reconnects,
                    side.lost_connections,
                    side.fell_back_to_polling,
                    side.pings_sent,
                    frames.join(", ")
                );
            }
            let r = &push.across_forced_reconnects;
            let f = &push.fell_back_to_polling;
            let _ = writeln!(
                out,
                "push delivery: {} replies of chats on push came by a read, not a frame; chats with forced reconnects {} (lost {}, duplicated {}); chats that fell back to polling {} (lost {}, duplicated {}); agent frames for other dashboards' chats (shared account) {}",
                push.replies_not_pushed,
                r.chats,
                r.check.lost,
                r.check.duplicated,
                f.chats,
                f.check.lost,
                f.check.duplicated,
                push.agent_frames_for_other_dashboards
            );
        }
        match &self.capacity {
            Some(units) => {
                let _ = writeln!(
                    out,
                    "capacity per chat: {:.1} read units, {:.1} write units (mean chat {:.0} s of \
                     chat time; the cost model scales them to a standard chat)",
                    units.read_units, units.write_units, self.mean_chat_s
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "capacity: not measured (--dynamodb-url names the local DynamoDB server; {})",
                    crate::capacity::DEPLOYED_HINT
                );
            }
        }
        if self.passed() {
            let _ = writeln!(
                out,
                "result: PASS (0 lost, 0 duplicated, 0 5xx, 0 without an answer)"
            );
        } else {
            let _ = writeln!(out, "result: FAIL ({})", self.failures.join(", "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Endpoint, Outcome, Stats};

    fn config() -> RunConfig {
        RunConfig {
            base_url: "http://127.0.0.1:3000".into(),
            chats: 2,
            agents: 1,
            duration: Duration::from_secs(10),
            time_scale: 5.0,
            agent_login: None,
            seed: 1,
            request_timeout: Duration::from_secs(5),
            progress: false,
            dynamodb_url: None,
            push: PushMode::default(),
        }
    }

    fn report(stats: &Stats, delivery: DeliveryCheck) -> Report {
        let counts = ChatCounts {
            planned: 2,
            started: 2,
            left_by_customer: 2,
            rated: 2,
            ..ChatCounts::default()
        };
        Report::new(
            &config(),
            1,
            1,
            Duration::from_secs(11),
            counts,
            &[40.0, 50.0],
            0,
            stats.summarize(),
            delivery,
        )
    }

    #[test]
    fn per_chat_counts_leave_the_check_out_and_a_clean_run_passes() {
        let stats = Stats::default();
        for _ in 0..10 {
            stats.record(Endpoint::Poll, Duration::from_millis(2), &Outcome::Success);
        }
        stats.record(
            Endpoint::VerifyTranscript,
            Duration::from_millis(2),
            &Outcome::Success,
        );
        let report = report(&stats, DeliveryCheck::default());
        assert_eq!(report.per_chat["poll"], 5.0);
        assert!(!report.per_chat.contains_key("verify_transcript"));
        assert_eq!(report.mean_chat_s, 45.0);
        assert!(report.passed(), "{:?}", report.failures);
        let text = report.render();
        assert!(text.contains("capacity: not measured"), "{text}");
        assert!(text.contains("result: PASS"), "{text}");
    }

    #[test]
    fn lost_duplicated_and_5xx_each_fail_the_run() {
        let stats = Stats::default();
        stats.record(
            Endpoint::SendMessage,
            Duration::from_millis(2),
            &Outcome::Failed {
                status: 500,
                code: "SEND_FAILED".into(),
            },
        );
        let delivery = DeliveryCheck {
            lost: 1,
            duplicated: 2,
            ..DeliveryCheck::default()
        };
        let report = report(&stats, delivery);
        assert_eq!(
            report.failures,
            ["1 lost replies", "2 duplicated replies", "1 5xx answers"]
        );
        assert!(report.render().contains("result: FAIL"));
        // A refused request (4xx) alone does not fail a run: agents race customers who leave.
        let stats = Stats::default();
        stats.record(
            Endpoint::AdminReply,
            Duration::from_millis(2),
            &Outcome::Failed {
                status: 404,
                code: "SESSION_NOT_FOUND".into(),
            },
        );
        assert!(report_passes(&stats));
    }

    fn report_passes(stats: &Stats) -> bool {
        report(stats, DeliveryCheck::default()).passed()
    }
}
