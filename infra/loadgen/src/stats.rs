//! Every request's latency and outcome, per endpoint.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// What was called, as the summary names it. The two list calls and the two transcript calls
/// are separate rows: they cost differently (an index Query vs a counter read; an opening
/// writes a `VIEWED_SESSION` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    CreateSession,
    SendMessage,
    Poll,
    Leave,
    Rating,
    AdminLogin,
    ListWaiting,
    ListActive,
    OpenTranscript,
    TranscriptAfter,
    AdminReply,
    AdminEnd,
    /// The push channel (docs/asyncapi.yaml): tickets, the WebSocket upgrade, and the REST reads
    /// a push client makes instead of timers.
    CustomerTicket,
    CustomerConnect,
    /// The customer's read from its cursor on each (re)connect and on the way out.
    CatchUpPoll,
    /// A push customer whose socket would not connect, polling every 2 s.
    FallbackPoll,
    AgentTicket,
    AgentConnect,
    /// Both lists re-read on a hint that names an unknown session or is truncated, and on
    /// each (re)connect.
    ListWaitingOnHint,
    ListActiveOnHint,
    /// The open chat read from its cursor on (re)connect or after a gap in the pushed ids.
    TranscriptCatchUp,
    /// The check after the run (each chat's transcript, to find lost replies): not part of
    /// the chats' request mix.
    VerifyTranscript,
}

impl Endpoint {
    pub const ALL: [Endpoint; 22] = [
        Endpoint::CreateSession,
        Endpoint::SendMessage,
        Endpoint::Poll,
        Endpoint::Leave,
        Endpoint::Rating,
        Endpoint::AdminLogin,
        Endpoint::ListWaiting,
        Endpoint::ListActive,
        Endpoint::OpenTranscript,
        Endpoint::TranscriptAfter,
        Endpoint::AdminReply,
        Endpoint::AdminEnd,
        Endpoint::CustomerTicket,
        Endpoint::CustomerConnect,
        Endpoint::CatchUpPoll,
        Endpoint::FallbackPoll,
        Endpoint::AgentTicket,
        Endpoint::AgentConnect,
        Endpoint::ListWaitingOnHint,
        Endpoint::ListActiveOnHint,
        Endpoint::TranscriptCatchUp,
        Endpoint::VerifyTranscript,
    ];

    /// A stable key for the JSON report (and the cost model that reads it).
    pub fn key(self) -> &'static str {
        match self {
            Endpoint::CreateSession => "create_session",
            Endpoint::SendMessage => "send_message",
            Endpoint::Poll => "poll",
            Endpoint::Leave => "leave",
            Endpoint::Rating => "rating",
            Endpoint::AdminLogin => "admin_login",
            Endpoint::ListWaiting => "admin_list_waiting",
            Endpoint::ListActive => "admin_list_active",
            Endpoint::OpenTranscript => "admin_open_transcript",
            Endpoint::TranscriptAfter => "admin_transcript_after",
            Endpoint::AdminReply => "admin_reply",
            Endpoint::AdminEnd => "admin_end",
            Endpoint::CustomerTicket => "customer_ticket",
            Endpoint::CustomerConnect => "ws_connect_customer",
            Endpoint::CatchUpPoll => "poll_catch_up",
            Endpoint::FallbackPoll => "poll_fallback",
            Endpoint::AgentTicket => "agent_ticket",
            Endpoint::AgentConnect => "ws_connect_agent",
            Endpoint::ListWaitingOnHint => "admin_list_waiting_on_hint",
            Endpoint::ListActiveOnHint => "admin_list_active_on_hint",
            Endpoint::TranscriptCatchUp => "admin_transcript_catch_up",
            Endpoint::VerifyTranscript => "verify_transcript",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Endpoint::CreateSession => "POST /api/chat/session",
            Endpoint::SendMessage => "POST /api/chat/message",
            Endpoint::Poll => "GET  /api/chat/poll/{id}?after=",
            Endpoint::Leave => "POST /api/chat/session/end",
            Endpoint::Rating => "POST /api/chat/rating",
            Endpoint::AdminLogin => "POST /api/admin/auth/login",
            Endpoint::ListWaiting => "GET  .../active-sessions?waiting=true",
            Endpoint::ListActive => "GET  .../active-sessions",
            Endpoint::OpenTranscript => "GET  /api/admin/chat/messages/{id}",
            Endpoint::TranscriptAfter => "GET  .../messages/{id}?after=",
            Endpoint::AdminReply => "POST /api/admin/chat/message",
            Endpoint::AdminEnd => "POST /api/admin/chat/session/end",
            Endpoint::CustomerTicket => "POST /api/chat/realtime/ticket",
            Endpoint::CustomerConnect => "WS   connect (customer)",
            Endpoint::CatchUpPoll => "GET  poll?after= (catch-up)",
            Endpoint::FallbackPoll => "GET  poll?after= (fallback, 2 s)",
            Endpoint::AgentTicket => "POST /api/admin/realtime/ticket",
            Endpoint::AgentConnect => "WS   connect (agent)",
            Endpoint::ListWaitingOnHint => "GET  ...?waiting=true (hint/connect)",
            Endpoint::ListActiveOnHint => "GET  .../active-sessions (hint/connect)",
            Endpoint::TranscriptCatchUp => "GET  .../messages/{id}?after= (catch-up)",
            Endpoint::VerifyTranscript => "(check) full transcript per chat",
        }
    }

    /// Part of what a chat costs (everything but the after-run check).
    pub fn in_chat_mix(self) -> bool {
        self != Endpoint::VerifyTranscript
    }

    /// Who makes the request: the customer's app, or an agent's dashboard.
    pub fn party(self) -> Party {
        match self {
            Endpoint::CreateSession
            | Endpoint::SendMessage
            | Endpoint::Poll
            | Endpoint::Leave
            | Endpoint::Rating
            | Endpoint::CustomerTicket
            | Endpoint::CustomerConnect
            | Endpoint::CatchUpPoll
            | Endpoint::FallbackPoll => Party::Customer,
            _ => Party::Agent,
        }
    }

    /// What kind of request it is, as it is billed.
    pub fn kind(self) -> RequestKind {
        match self {
            Endpoint::CustomerConnect | Endpoint::AgentConnect => RequestKind::WebSocketConnect,
            Endpoint::CustomerTicket | Endpoint::AgentTicket => RequestKind::Ticket,
            _ => RequestKind::Rest,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Customer,
    Agent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A REST request other than a ticket.
    Rest,
    /// `POST .../realtime/ticket`: a REST request too, counted apart.
    Ticket,
    /// The WebSocket upgrade (`$connect`): a Lambda invocation, no REST request.
    WebSocketConnect,
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The envelope's `error.code`, or `HTTP <status>` when the answer was not the envelope.
    Failed {
        status: u16,
        code: String,
    },
    /// No HTTP answer: connection refused or reset, or no answer within the timeout.
    Transport(String),
}

#[derive(Debug, Default)]
struct EndpointData {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
    server_errors: u64,
    transport_errors: u64,
}

#[derive(Debug, Default)]
pub struct Stats {
    data: Mutex<BTreeMap<Endpoint, EndpointData>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointSummary {
    pub key: &'static str,
    pub label: &'static str,
    pub requests: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// By error code (`HTTP 502` when the answer was not the envelope, `TRANSPORT: ...` when
    /// there was no answer).
    pub errors: BTreeMap<String, u64>,
    /// Answers with status 500 or above.
    pub server_errors: u64,
    pub transport_errors: u64,
    pub in_chat_mix: bool,
    pub party: Party,
    pub kind: RequestKind,
}

impl Stats {
    pub fn record(&self, endpoint: Endpoint, latency: Duration, outcome: &Outcome) {
        let mut data = self.data.lock().unwrap();
        let entry = data.entry(endpoint).or_default();
        entry.latencies_us.push(latency.as_micros() as u64);
        match outcome {
            Outcome::Success => {}
            Outcome::Failed { status, code } => {
                *entry.errors.entry(code.clone()).or_default() += 1;
                if *status >= 500 {
                    entry.server_errors += 1;
                }
            }
            Outcome::Transport(kind) => {
                *entry
                    .errors
                    .entry(format!("TRANSPORT: {kind}"))
                    .or_default() += 1;
                entry.transport_errors += 1;
            }
        }
    }

    pub fn total_requests(&self) -> u64 {
        let data = self.data.lock().unwrap();
        data.values().map(|d| d.latencies_us.len() as u64).sum()
    }

    pub fn total_errors(&self) -> u64 {
        let data = self.data.lock().unwrap();
        data.values().flat_map(|d| d.errors.values()).sum()
    }

    /// One row per endpoint called, in the order of [`Endpoint::ALL`].
    pub fn summarize(&self) -> Vec<EndpointSummary> {
        let mut data = self.data.lock().unwrap();
        Endpoint::ALL
            .iter()
            .filter_map(|endpoint| {
                let entry = data.get_mut(endpoint)?;
                entry.latencies_us.sort_unstable();
                let at = |p: f64| percentile(&entry.latencies_us, p) as f64 / 1000.0;
                Some(EndpointSummary {
                    key: endpoint.key(),
                    label: endpoint.label(),
                    requests: entry.latencies_us.len() as u64,
                    p50_ms: at(50.0),
                    p95_ms: at(95.0),
                    p99_ms: at(99.0),
                    errors: entry.errors.clone(),
                    server_errors: entry.server_errors,
                    transport_errors: entry.transport_errors,
                    in_chat_mix: endpoint.in_chat_mix(),
                    party: endpoint.party(),
                    kind: endpoint.kind(),
                })
            })
            .collect()
    }
}

/// Nearest-rank percentile of sorted values (0 for none).
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 95.0), 95);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[1, 2, 3, 1000], 50.0), 2);
    }

    #[test]
    fn errors_are_counted_by_code_and_server_errors_apart() {
        let stats = Stats::default();
        let ms = Duration::from_millis;
        stats.record(Endpoint::Poll, ms(1), &Outcome::Success);
        stats.record(Endpoint::Poll, ms(3), &Outcome::Success);
        stats.record(
            Endpoint::Poll,
            ms(2),
            &Outcome::Failed {
                status: 503,
                code: "SERVICE_UNAVAILABLE".into(),
            },
        );
        stats.record(
            Endpoint::AdminReply,
            ms(5),
            &Outcome::Failed {
                status: 404,
                code: "SESSION_NOT_FOUND".into(),
            },
        );
        stats.record(
            Endpoint::AdminReply,
            ms(9),
            &Outcome::Transport("timeout".into()),
        );
        let rows = stats.summarize();
        assert_eq!(rows.len(), 2);
        let poll = &rows[0];
        assert_eq!((poll.key, poll.requests), ("poll", 3));
        assert_eq!(poll.p50_ms, 2.0);
        assert_eq!(poll.p99_ms, 3.0);
        assert_eq!(poll.errors["SERVICE_UNAVAILABLE"], 1);
        assert_eq!(poll.server_errors, 1);
        let reply = &rows[1];
        assert_eq!(reply.server_errors, 0);
        assert_eq!(reply.transport_errors, 1);
        assert_eq!(reply.errors.len(), 2);
        assert_eq!(stats.total_requests(), 5);
        assert_eq!(stats.total_errors(), 3);
    }
}
