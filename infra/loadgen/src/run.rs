//! The simulation: one task per customer (the shipped app: its poll timer and its sends; or a
//! new app version on the push channel), one per agent's dashboard (list timer and open-chat
//! timer; or the push channel's hints and frames), then the delivery check.

use crate::api::{Api, CallError, SetupError};
use crate::config::RunConfig;
use crate::delivery::{self, ChatDelivery};
use crate::plan::{plan_chats, ChatPlan, Ender, Rng, TimeScale};
use crate::push::{
    self, ConnectError, PartyCounters, PushCounters, PushMode, PushSocket, Received,
};
use crate::report::{ChatCounts, PathRow, PushSummary, Report, SubsetCheck};
use crate::stats::{Endpoint, Outcome, Stats};
use crate::timeline::{Path, Receipt, Timeline};
use http::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// The app's poll interval (docs/contract.md §C2) and the dashboard's timers (app.js), in chat
/// time.
const APP_POLL_EVERY: Duration = Duration::from_secs(2);
const LIST_EVERY: Duration = Duration::from_secs(5);
const OPEN_CHAT_EVERY: Duration = Duration::from_secs(2);
/// The shipped app stops polling after this many failed polls (docs/contract.md §C2, the app's
/// `pollErrorCount`).
const APP_POLL_ERRORS_TOLERATED: u32 = 5;
/// The dashboard keeps a failed reply's text and key; the agent tries again this many times.
const REPLY_ATTEMPTS: u32 = 3;
/// After the deadline: time for the chats still open to leave and rate, and for the check.
const DRAIN: Duration = Duration::from_secs(30);
/// Push agents re-read both lists this often (chat time) whatever the hints said: only a
/// consumer failure (a batch given up after its retries, or older than 5 minutes) leaves a
/// change unannounced (see `PushDashboard`).
const LIST_SAFETY_EVERY: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("invalid settings: {0}")]
    Settings(String),
}

/// What the simulation knows about a chat beyond the wire: the plan both sides follow, who
/// serves it, and the replies agents were told were stored.
#[derive(Debug)]
struct Board {
    plan: ChatPlan,
    assigned_to: Option<usize>,
    acknowledged: Vec<String>,
    /// The customer left: its chat vanishes from the agent's list (the dashboard would notice
    /// on its next list; the simulation takes the shortcut instead of diffing lists).
    over: bool,
}

struct Shared {
    api: Api,
    scale: TimeScale,
    started: Instant,
    /// Customers stop their scripts here (still open chats are left and rated).
    deadline: Instant,
    boards: Mutex<HashMap<String, Board>>,
    /// Assigned chats per agent: the rest of the chats is spread evenly.
    capacity: usize,
    stop_agents: watch::Receiver<bool>,
    chats_open: AtomicU64,
    chats_done: AtomicU64,
    push: PushMode,
    push_counters: PushCounters,
    timeline: Timeline,
    /// `message.created` frames an agent's socket got for chats another dashboard serves: every
    /// dashboard signs in with the same account here, and the holder's connections are all of
    /// that account's. With one account per agent they would not be sent.
    frames_for_other_dashboards: AtomicU64,
}

impl Shared {
    fn past_deadline(&self) -> bool {
        Instant::now() >= self.deadline
    }

    fn chat_time_since_start(&self) -> Duration {
        self.scale.chat(self.started.elapsed())
    }
}

pub async fn run(config: RunConfig) -> Result<Report, RunError> {
    if config.chats == 0 {
        return Err(RunError::Settings("--chats must be at least 1".into()));
    }
    if !(config.time_scale.is_finite() && config.time_scale >= 1.0) {
        return Err(RunError::Settings("--time-scale must be 1 or more".into()));
    }
    let agents = if config.agent_login.is_some() {
        config.agents.max(1)
    } else {
        0
    };
    let stats = Arc::new(Stats::default());
    let api = Api::new(&config.base_url, stats.clone(), config.request_timeout)?;
    let scale = TimeScale::new(config.time_scale);
    let span = scale.chat(config.duration);
    let plans = plan_chats(config.chats, span, config.seed);
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let shared = Arc::new(Shared {
        api,
        scale,
        started,
        deadline: started + config.duration,
        boards: Mutex::new(HashMap::new()),
        capacity: config.chats.div_ceil(agents.max(1)),
        stop_agents: stop_rx,
        chats_open: AtomicU64::new(0),
        chats_done: AtomicU64::new(0),
        push: config.push,
        push_counters: PushCounters::default(),
        timeline: Timeline::default(),
        frames_for_other_dashboards: AtomicU64::new(0),
    });
    // Session ids in the app's own format need randomness that differs between runs even
    // with the same plan seed (ids are unique per table).
    let mut id_seed = [0u8; 8];
    getrandom::fill(&mut id_seed).expect("the operating system's random source failed");
    let mut id_rng = Rng::new(u64::from_le_bytes(id_seed));

    let capacity_before = match &config.dynamodb_url {
        Some(url) => Some(
            crate::capacity::read_totals(url)
                .await
                .map_err(RunError::Settings)?,
        ),
        None => None,
    };
    let progress = config
        .progress
        .then(|| tokio::spawn(progress_line(shared.clone(), config.duration)));

    let mut agent_tasks = JoinSet::new();
    if let Some((email, password)) = &config.agent_login {
        for index in 0..agents {
            let (shared, email, password) = (shared.clone(), email.clone(), password.clone());
            let seed = config.seed ^ (0xA6E7 + index as u64);
            agent_tasks.spawn(async move { agent(shared, index, &email, &password, seed).await });
        }
    }
    let mut customer_tasks = JoinSet::new();
    for plan in plans.iter().cloned() {
        let shared = shared.clone();
        let session_id = format!(
            "chat_{}_{}",
            chrono::Utc::now().timestamp_millis(),
            id_rng.base36(9)
        );
        customer_tasks.spawn(async move { customer(shared, plan, session_id).await });
    }

    // Bounded in time: whatever has not finished DRAIN after the deadline is abandoned.
    let hard_stop = shared.deadline + DRAIN;
    let mut customers = Vec::new();
    let mut abandoned = 0u64;
    loop {
        match tokio::time::timeout_at(hard_stop.into(), customer_tasks.join_next()).await {
            Ok(Some(Ok(result))) => customers.push(result),
            Ok(Some(Err(join_error))) => panic!("a customer task failed: {join_error}"),
            Ok(None) => break,
            Err(_) => {
                abandoned = customer_tasks.len() as u64;
                customer_tasks.abort_all();
                break;
            }
        }
    }
    let _ = stop_tx.send(true);
    let mut tokens = Vec::new();
    while let Ok(Some(joined)) =
        tokio::time::timeout_at((Instant::now() + DRAIN).into(), agent_tasks.join_next()).await
    {
        if let Ok(Some(token)) = joined {
            tokens.push(token);
        }
    }
    agent_tasks.abort_all();
    if let Some(progress) = progress {
        progress.abort();
        eprintln!();
    }
    let run_wall = started.elapsed();
    // Before the check, which reads every transcript: the chats' own units only.
    let capacity_after = match &config.dynamodb_url {
        Some(url) => crate::capacity::read_totals(url).await.ok(),
        None => None,
    };

    let deliveries = verify(&shared, tokens.first().map(String::as_str), &customers).await;
    let delivery = delivery::check(&deliveries);
    let counts = chat_counts(config.chats as u64, &customers, abandoned);
    let chat_seconds: Vec<f64> = customers
        .iter()
        .filter_map(|c| c.chat_length.map(|d| d.as_secs_f64()))
        .collect();
    let capacity = capacity_before
        .zip(capacity_after)
        .map(|(before, after)| crate::capacity::per_chat(before, after, counts.started));
    let mut report = Report::new(
        &config,
        agents as u64,
        tokens.len() as u64,
        run_wall,
        counts,
        &chat_seconds,
        customers.iter().map(|c| c.slow_polls).sum(),
        stats.summarize(),
        delivery,
    );
    report.capacity = capacity;
    report.set_latency(
        shared.timeline.latencies(
            &customers
                .iter()
                .flat_map(|c| c.receipts.iter().cloned())
                .collect::<Vec<_>>(),
        ),
    );
    report.set_reply_paths(reply_paths(&customers));
    report.set_by_party(&shared.push_counters, config.time_scale);
    if config.push.agents || config.push.customers {
        report.set_push(push_summary(&shared, &config, &customers, &deliveries));
    }
    Ok(report)
}

/// Replies by the path that first brought them, and the repeats each path brought.
fn reply_paths(customers: &[CustomerResult]) -> Vec<PathRow> {
    let mut rows: BTreeMap<Path, PathRow> = BTreeMap::new();
    for customer in customers {
        for receipt in &customer.receipts {
            rows.entry(receipt.path)
                .or_insert_with(|| PathRow::new(receipt.path))
                .first_delivered += 1;
        }
        for (path, repeats) in &customer.repeats {
            rows.entry(*path)
                .or_insert_with(|| PathRow::new(*path))
                .repeats_dropped += repeats;
        }
    }
    rows.into_values().collect()
}

fn push_summary(
    shared: &Shared,
    config: &RunConfig,
    customers: &[CustomerResult],
    deliveries: &[ChatDelivery],
) -> PushSummary {
    // `deliveries` has one entry per started chat, in the customers' order.
    let started: Vec<&CustomerResult> = customers
        .iter()
        .filter(|c| c.session_id.is_some())
        .collect();
    let subset = |keep: &dyn Fn(&CustomerResult) -> bool| {
        let chats: Vec<ChatDelivery> = started
            .iter()
            .zip(deliveries)
            .filter(|(c, _)| keep(c))
            .map(|(_, d)| d.clone())
            .collect();
        SubsetCheck {
            chats: chats.len() as u64,
            check: delivery::check(&chats),
        }
    };
    // Replies the customer's socket never brought although the chat was on push: the catch-up
    // reads covered them (a reply committed while a socket was being replaced, or a lost post).
    let push_missed = if config.push.customers {
        started
            .iter()
            .zip(deliveries)
            .filter(|(c, _)| !c.fell_back)
            .map(|(c, d)| {
                let replies: HashSet<&String> = d
                    .stored
                    .iter()
                    .flatten()
                    .chain(d.acknowledged.iter())
                    .collect();
                replies
                    .iter()
                    .filter(|id| !c.pushed.contains(id.as_str()))
                    .count() as u64
            })
            .sum()
    } else {
        0
    };
    PushSummary {
        mode: config.push,
        customers: shared.push_counters.customers.summarize(config.time_scale),
        agents: shared.push_counters.agents.summarize(config.time_scale),
        agent_frames_for_other_dashboards: shared
            .frames_for_other_dashboards
            .load(Ordering::Relaxed),
        replies_not_pushed: push_missed,
        across_forced_reconnects: subset(&|c| c.forced_reconnects > 0),
        fell_back_to_polling: subset(&|c| c.fell_back),
    }
}

// ---- the customer: the shipped app ---------------------------------------------------------

/// How a chat went, from the customer's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatOutcome {
    NotStarted,
    /// Left after every message was answered (the plan said the customer ends).
    Left,
    /// An agent ended it; the app saw `sessionEnded`.
    EndedByAgent,
    /// Still open at the deadline: left then.
    CutShort,
    /// The app stopped polling after repeated poll errors, as the shipped app does.
    GaveUpPolling,
}

struct CustomerResult {
    session_id: Option<String>,
    outcome: ChatOutcome,
    rated: bool,
    received: Vec<String>,
    slow_polls: u64,
    /// Chat time from the session's creation to its end.
    chat_length: Option<Duration>,
    /// Each reply's first arrival and the path that brought it.
    receipts: Vec<Receipt>,
    /// Arrivals of a reply already shown, per path (a push client drops them).
    repeats: BTreeMap<Path, u64>,
    /// Replies a `message.created` frame brought (first or not).
    pushed: HashSet<String>,
    forced_reconnects: u32,
    /// The socket would not connect and the app polled as the shipped app does.
    fell_back: bool,
}

/// The app's state (its chat service, docs/contract.md §C2): the cursor it polls with and what
/// it has shown.
#[derive(Default)]
struct AppState {
    last_message_id: Option<String>,
    received: Vec<String>,
    ended: bool,
    gave_up: bool,
    poll_errors: u32,
    slow_polls: u64,
    receipts: Vec<Receipt>,
    repeats: BTreeMap<Path, u64>,
    pushed: HashSet<String>,
    forced_reconnects: u32,
    fell_back: bool,
}

impl AppState {
    /// A reply arrived. The shipped app shows whatever a poll returns (the check then counts a
    /// repeat as duplicated); a push client shows each message id once.
    fn arrived(
        &mut self,
        session_id: &str,
        message_id: &str,
        at: Instant,
        path: Path,
        dedupe: bool,
    ) {
        let first = !self.received.iter().any(|id| id == message_id);
        if first {
            self.receipts.push(Receipt {
                session_id: session_id.to_owned(),
                message_id: message_id.to_owned(),
                at,
                path,
            });
        } else {
            *self.repeats.entry(path).or_default() += 1;
        }
        if first || !dedupe {
            self.received.push(message_id.to_owned());
        }
        // The cursor only moves forward: a frame that was overtaken does not move it back.
        let newer = match &self.last_message_id {
            Some(cursor) => compare_message_ids(message_id, cursor).is_gt(),
            None => true,
        };
        if newer || !dedupe {
            self.last_message_id = Some(message_id.to_owned());
        }
    }
}

/// Message ids are `msg_` and a zero-padded sequence: length first, then as text.
fn compare_message_ids(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

struct App {
    shared: Arc<Shared>,
    session_id: String,
    token: String,
    state: Mutex<AppState>,
    stop_polling: AtomicBool,
    /// Tells the push loop the customer is done.
    stop: watch::Sender<bool>,
    rng: Mutex<Rng>,
}

/// Why a push connection ended.
enum Gone {
    /// Our forced reconnect.
    Forced,
    /// The server closed it or it broke: reconnect with backoff.
    Lost,
    /// The chat is over for this client.
    Done,
}

impl App {
    fn headers(&self) -> [(&str, &str); 1] {
        [("x-chat-token", self.token.as_str())]
    }

    /// docs/contract.md §C3: poll after `lastMessageId`; show every message; move the cursor to
    /// the last. `endpoint` says why it polls: the app's timer, a push client's catch-up read
    /// or its fallback timer.
    async fn poll_once(&self, endpoint: Endpoint) {
        let path = match endpoint {
            Endpoint::CatchUpPoll => Path::CatchUp,
            Endpoint::FallbackPoll => Path::FallbackPoll,
            _ => Path::Poll,
        };
        let dedupe = self.shared.push.customers;
        loop {
            let cursor = self.state.lock().unwrap().last_message_id.clone();
            // The app builds the URL from `this.lastMessageId`, which is undefined before the
            // first message: the API accepts the literal "undefined" as "from the start".
            let url = format!(
                "/api/chat/poll/{}?after={}",
                self.session_id,
                cursor.as_deref().unwrap_or("undefined")
            );
            let answer = self
                .shared
                .api
                .call(endpoint, Method::GET, &url, &self.headers(), None)
                .await;
            let at = Instant::now();
            let mut state = self.state.lock().unwrap();
            let data = match answer {
                Ok(data) => data,
                // Only the shipped app stops after repeated errors; a push client's reads
                // carry on (the reference client stops only on 401, 403 or 404).
                Err(CallError::Refused {
                    status: 401 | 403 | 404,
                    ..
                }) if endpoint != Endpoint::Poll => {
                    state.ended = true;
                    return;
                }
                Err(_) if endpoint != Endpoint::Poll => return,
                Err(_) => {
                    state.poll_errors += 1;
                    if state.poll_errors >= APP_POLL_ERRORS_TOLERATED {
                        state.gave_up = true;
                    }
                    return;
                }
            };
            let messages = data["messages"].as_array().cloned().unwrap_or_default();
            for message in &messages {
                if let Some(id) = message["messageId"].as_str() {
                    state.arrived(&self.session_id, id, at, path, dedupe);
                }
            }
            if data["sessionEnded"] == true {
                state.ended = true;
            }
            // The shipped app does not read `hasMore`; its next tick would fetch the rest. A
            // chat here never has 50 unread replies, so this only matters for correctness.
            if data["hasMore"] != true || state.ended {
                return;
            }
        }
    }

    /// The poll timer: every 2 s (chat time) until the session ends or the app stops it. Ticks
    /// that fall while a poll is still running are skipped, so polls never overlap.
    async fn poll_loop(self: Arc<Self>) {
        let every = self.shared.scale.wall(APP_POLL_EVERY);
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticks.tick().await;
            if self.stop_polling.load(Ordering::Relaxed) {
                return;
            }
            let started = Instant::now();
            self.poll_once(Endpoint::Poll).await;
            let mut state = self.state.lock().unwrap();
            if started.elapsed() > every {
                state.slow_polls += 1;
            }
            if state.ended || state.gave_up {
                return;
            }
        }
    }

    /// docs/contract.md §C3: send, then `this.lastMessageId = response.data.messageId`.
    async fn send(&self, text: &str) -> Result<(), CallError> {
        let body = json!({
            "sessionId": self.session_id,
            "message": text,
            "sender": "user",
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let data = self
            .shared
            .api
            .call(
                Endpoint::SendMessage,
                Method::POST,
                "/api/chat/message",
                &self.headers(),
                Some(&body),
            )
            .await?;
        if let Some(id) = data["messageId"].as_str() {
            self.shared.timeline.committed(&self.session_id, id);
            // The shipped app's cursor habit; a push client's cursor is what it was delivered
            // (docs/mobile/guide.md), so a reply committed just before is not skipped.
            if !self.shared.push.customers {
                self.state.lock().unwrap().last_message_id = Some(id.to_owned());
            }
        }
        Ok(())
    }

    fn finished(&self) -> bool {
        let state = self.state.lock().unwrap();
        state.ended || state.gave_up || *self.stop.borrow()
    }

    /// Sleeps `chat_time` unless the customer is done first; false then.
    async fn pause(&self, chat_time: Duration, stop: &mut watch::Receiver<bool>) -> bool {
        tokio::select! {
            _ = self.shared.scale.sleep(chat_time) => !self.finished(),
            _ = stopped(stop) => false,
        }
    }

    /// The new app version (docs/asyncapi.yaml): a ticket and a socket, one catch-up read per
    /// (re)connect, replies from frames; backoff on a lost socket; after 3 failed connects the
    /// shipped app's poll, with push tried again every 60 s.
    async fn push_loop(self: Arc<Self>) {
        let counters = self.shared.push_counters.customers.clone();
        let mut stop = self.stop.subscribe();
        let mut failed = 0u32;
        let mut step = 0u32;
        loop {
            if self.finished() {
                return;
            }
            match self.open_socket(&counters).await {
                Ok(socket) => {
                    failed = 0;
                    match self.connected(socket, &mut stop).await {
                        Gone::Done => return,
                        Gone::Forced => {
                            counters.forced_reconnects.fetch_add(1, Ordering::Relaxed);
                            self.state.lock().unwrap().forced_reconnects += 1;
                            step = 0;
                        }
                        Gone::Lost => {
                            counters.lost_connections.fetch_add(1, Ordering::Relaxed);
                            let wait = push::backoff(step, self.random());
                            step += 1;
                            if !self.pause(wait, &mut stop).await {
                                return;
                            }
                        }
                    }
                }
                // The session is over (ticket 404/401, connect 403): deliver what is left.
                Err(ConnectError::Refused(401 | 403 | 404)) => {
                    self.poll_once(Endpoint::CatchUpPoll).await;
                    self.state.lock().unwrap().ended = true;
                    return;
                }
                Err(_) => {
                    failed += 1;
                    if failed >= push::FAILED_CONNECTS_BEFORE_POLLING {
                        let first =
                            !std::mem::replace(&mut self.state.lock().unwrap().fell_back, true);
                        if first {
                            counters.fell_back.fetch_add(1, Ordering::Relaxed);
                        }
                        if !self.fallback_polling(&mut stop).await {
                            return;
                        }
                        // One more failure goes straight back to polling.
                        failed = push::FAILED_CONNECTS_BEFORE_POLLING - 1;
                    } else {
                        let wait = push::backoff(step, self.random());
                        step += 1;
                        if !self.pause(wait, &mut stop).await {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn random(&self) -> f64 {
        self.rng.lock().unwrap().fraction(0.0, 1.0)
    }

    /// `POST /api/chat/realtime/ticket`, then the socket its `url` names. A refused ticket is
    /// reported as `Refused` with the ticket's status.
    async fn open_socket(&self, counters: &Arc<PartyCounters>) -> Result<PushSocket, ConnectError> {
        let ticket = self
            .shared
            .api
            .call(
                Endpoint::CustomerTicket,
                Method::POST,
                "/api/chat/realtime/ticket",
                &self.headers(),
                Some(&json!({ "sessionId": self.session_id })),
            )
            .await;
        let url = match ticket {
            Ok(data) => data["url"].as_str().unwrap_or_default().to_owned(),
            Err(CallError::Refused { status, .. }) => return Err(ConnectError::Refused(status)),
            Err(err) => return Err(ConnectError::Failed(err.to_string())),
        };
        connect_recorded(&self.shared, Endpoint::CustomerConnect, &url, counters).await
    }

    /// One connection's life: the catch-up read, then frames until it closes.
    async fn connected(&self, mut socket: PushSocket, stop: &mut watch::Receiver<bool>) -> Gone {
        // Frames that arrive during the read wait in the channel (stamped on arrival) and are
        // applied after it, as the reference client holds them back.
        self.poll_once(Endpoint::CatchUpPoll).await;
        if self.state.lock().unwrap().ended {
            socket.close().await;
            return Gone::Done;
        }
        let scale = self.shared.scale;
        let mut ping = tokio::time::interval(scale.wall(push::PING_EVERY));
        ping.tick().await;
        let forced = self
            .shared
            .push
            .reconnect_every
            .map(|every| Instant::now() + scale.wall(every));
        let far = Instant::now() + Duration::from_secs(86_400);
        loop {
            tokio::select! {
                _ = stopped(stop) => {
                    socket.close().await;
                    return Gone::Done;
                }
                _ = ping.tick() => socket.ping().await,
                _ = tokio::time::sleep_until(forced.unwrap_or(far).into()) => {
                    socket.close().await;
                    return Gone::Forced;
                }
                received = socket.frames.recv() => match received {
                    Some(Received::Frame(at, frame)) => match frame["type"].as_str() {
                        Some("message.created") => {
                            if let Some(id) = frame["data"]["messageId"].as_str() {
                                let mut state = self.state.lock().unwrap();
                                state.pushed.insert(id.to_owned());
                                state.arrived(&self.session_id, id, at, Path::Push, true);
                            }
                        }
                        // The end (C8): one last read brings a reply whose frame was lost.
                        Some("session.ended") | Some("closing") => {
                            socket.close().await;
                            self.poll_once(Endpoint::CatchUpPoll).await;
                            self.state.lock().unwrap().ended = true;
                            return Gone::Done;
                        }
                        _ => {}
                    },
                    Some(Received::Closed) | None => {
                        socket.closed();
                        return Gone::Lost;
                    }
                },
            }
        }
    }

    /// The shipped app's poll for `PUSH_RETRY_EVERY`; false when the chat ended meanwhile.
    async fn fallback_polling(&self, stop: &mut watch::Receiver<bool>) -> bool {
        let until = Instant::now() + self.shared.scale.wall(push::PUSH_RETRY_EVERY);
        while Instant::now() < until {
            self.poll_once(Endpoint::FallbackPoll).await;
            if self.finished() || !self.pause(APP_POLL_EVERY, stop).await {
                return false;
            }
        }
        true
    }

    async fn leave(&self) -> Result<(), CallError> {
        self.shared
            .api
            .call(
                Endpoint::Leave,
                Method::POST,
                "/api/chat/session/end",
                &self.headers(),
                Some(&json!({ "sessionId": self.session_id })),
            )
            .await
            .map(drop)
    }

    /// Waits (in small wall-clock steps) until `done` holds or the deadline passes.
    async fn wait_until(&self, done: impl Fn(&AppState) -> bool) -> bool {
        loop {
            {
                let state = self.state.lock().unwrap();
                if done(&state) {
                    return true;
                }
                if state.ended || state.gave_up {
                    return false;
                }
            }
            if self.shared.past_deadline() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sleeps `chat_time`, cut short by the deadline; false when the deadline came first.
    async fn think(&self, chat_time: Duration) -> bool {
        let until = Instant::now() + self.shared.scale.wall(chat_time);
        if until >= self.shared.deadline {
            tokio::time::sleep_until(self.shared.deadline.into()).await;
            return false;
        }
        tokio::time::sleep_until(until.into()).await;
        true
    }
}

/// Resolves once `stop` says so (its guard is not held across the caller's awaits).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|done| *done).await;
}

/// Opens a push socket, recorded as a request of its own (the `$connect` route runs a function).
async fn connect_recorded(
    shared: &Shared,
    endpoint: Endpoint,
    url: &str,
    counters: &Arc<PartyCounters>,
) -> Result<PushSocket, ConnectError> {
    let started = Instant::now();
    let result = PushSocket::connect(url, counters.clone()).await;
    let outcome = match &result {
        Ok(_) => Outcome::Success,
        Err(ConnectError::Refused(status)) => Outcome::Failed {
            status: *status,
            code: format!("HTTP {status}"),
        },
        Err(ConnectError::Failed(detail)) => {
            Outcome::Transport(detail.split(':').next().unwrap_or_default().to_owned())
        }
    };
    shared
        .api
        .stats()
        .record(endpoint, started.elapsed(), &outcome);
    result
}

async fn customer(shared: Arc<Shared>, plan: ChatPlan, session_id: String) -> CustomerResult {
    let not_started = CustomerResult {
        session_id: None,
        outcome: ChatOutcome::NotStarted,
        rated: false,
        received: Vec::new(),
        slow_polls: 0,
        chat_length: None,
        receipts: Vec::new(),
        repeats: BTreeMap::new(),
        pushed: HashSet::new(),
        forced_reconnects: 0,
        fell_back: false,
    };
    tokio::time::sleep(shared.scale.wall(plan.start_after)).await;
    if shared.past_deadline() {
        return not_started;
    }
    // docs/contract.md §C2: the app's own session id and the user's details.
    let body = json!({
        "sessionId": session_id,
        "userInfo": {
            "userId": format!("load-user-{}", plan.index),
            "name": format!("Load Customer {}", plan.index),
            "email": format!("customer{}@load.example", plan.index),
            "isGuest": false,
        },
        "startTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "status": "active",
    });
    let created = shared
        .api
        .call(
            Endpoint::CreateSession,
            Method::POST,
            "/api/chat/session",
            &[],
            Some(&body),
        )
        .await;
    let Ok(data) = created else {
        return not_started;
    };
    let (Some(session_id), Some(token)) =
        (data["sessionId"].as_str(), data["clientToken"].as_str())
    else {
        return not_started;
    };
    let chat_started = shared.chat_time_since_start();
    shared.boards.lock().unwrap().insert(
        session_id.to_owned(),
        Board {
            plan: plan.clone(),
            assigned_to: None,
            acknowledged: Vec::new(),
            over: false,
        },
    );
    shared.chats_open.fetch_add(1, Ordering::Relaxed);
    let app = Arc::new(App {
        shared: shared.clone(),
        session_id: session_id.to_owned(),
        token: token.to_owned(),
        state: Mutex::new(AppState::default()),
        stop_polling: AtomicBool::new(false),
        stop: watch::channel(false).0,
        rng: Mutex::new(Rng::new(plan.index as u64 ^ 0xBAC0)),
    });
    let poller = if shared.push.customers {
        tokio::spawn(app.clone().push_loop())
    } else {
        tokio::spawn(app.clone().poll_loop())
    };

    let mut rng = Rng::new(plan.index as u64 ^ 0xC057);
    let mut outcome = script(&app, &plan, &mut rng).await;
    if outcome == ChatOutcome::Left || outcome == ChatOutcome::CutShort {
        let last_read = if shared.push.customers {
            // The socket closes first, then the app leaves (it would hear its own end).
            app.stop.send_replace(true);
            let _ = poller.await;
            let _ = app.leave().await;
            Endpoint::CatchUpPoll
        } else {
            let _ = app.leave().await;
            app.stop_polling.store(true, Ordering::Relaxed);
            let _ = poller.await;
            Endpoint::Poll
        };
        // One poll after leaving, so that a reply committed before the leave but after the
        // last poll counts as delivered or lost rather than as "left before it arrived".
        if !app.state.lock().unwrap().gave_up {
            app.poll_once(last_read).await;
        }
    } else {
        let _ = poller.await;
    }
    if app.state.lock().unwrap().gave_up {
        outcome = ChatOutcome::GaveUpPolling;
    }
    let chat_length = shared.chat_time_since_start().saturating_sub(chat_started);
    if let Some(board) = shared.boards.lock().unwrap().get_mut(&app.session_id) {
        board.over = true;
    }

    // docs/contract.md §C2, §C9: the rating modal after the chat ended; one rating.
    let mut rated = false;
    if outcome != ChatOutcome::GaveUpPolling {
        let body = json!({
            "sessionId": app.session_id,
            "rating": plan.rating,
            "feedback": plan.feedback,
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        rated = shared
            .api
            .call(
                Endpoint::Rating,
                Method::POST,
                "/api/chat/rating",
                &app.headers(),
                Some(&body),
            )
            .await
            .is_ok();
    }
    shared.chats_open.fetch_sub(1, Ordering::Relaxed);
    shared.chats_done.fetch_add(1, Ordering::Relaxed);
    let state = app.state.lock().unwrap();
    CustomerResult {
        session_id: Some(app.session_id.clone()),
        outcome,
        rated,
        received: state.received.clone(),
        slow_polls: state.slow_polls,
        chat_length: Some(chat_length),
        receipts: state.receipts.clone(),
        repeats: state.repeats.clone(),
        pushed: state.pushed.clone(),
        forced_reconnects: state.forced_reconnects,
        fell_back: state.fell_back,
    }
}

/// A few messages, each after some thought and after the answer to the previous one; then
/// goodbye as planned.
async fn script(app: &App, plan: &ChatPlan, rng: &mut Rng) -> ChatOutcome {
    for (i, think) in plan.think.iter().enumerate() {
        if !app.think(*think).await {
            return ChatOutcome::CutShort;
        }
        let text = format!(
            "Customer {} message {} of {}",
            plan.index,
            i + 1,
            plan.think.len()
        );
        let _ = app.send(&text).await;
        // Waits for an answer to this message before writing the next one.
        if !app.wait_until(|s| s.received.len() > i).await {
            return match app.state.lock().unwrap().ended {
                true => ChatOutcome::EndedByAgent,
                false => ChatOutcome::CutShort,
            };
        }
    }
    match plan.ender {
        Ender::Customer => {
            let goodbye = Duration::from_secs_f64(rng.fraction(3.0, 10.0));
            if app.think(goodbye).await {
                ChatOutcome::Left
            } else {
                ChatOutcome::CutShort
            }
        }
        Ender::Agent => {
            if app.wait_until(|s| s.ended).await {
                ChatOutcome::EndedByAgent
            } else if app.state.lock().unwrap().gave_up {
                ChatOutcome::GaveUpPolling
            } else {
                ChatOutcome::CutShort
            }
        }
    }
}

// ---- the agent: the dashboard --------------------------------------------------------------

/// The dashboard's open chat (store.js `state.openId`, `state.lastMessageId`).
struct OpenChat {
    session_id: String,
    last_message_id: Option<String>,
    /// The newest customer message with no reply after it.
    unanswered: bool,
    reply_due: Option<Instant>,
    reply_key: Option<String>,
    reply_attempts: u32,
    end_due: Option<Instant>,
    over: bool,
    /// Message ids already applied (pushed frames repeat, and cross the reads).
    seen: HashSet<String>,
}

/// A session as the lists last showed it (push agents patch this from hints).
#[derive(Debug, Clone)]
struct Known {
    active: bool,
    waiting_since: Option<String>,
}

struct Dashboard {
    shared: Arc<Shared>,
    index: usize,
    bearer: String,
    rng: Rng,
    open: Option<OpenChat>,
    /// The last waiting list, longest wait first.
    waiting: Vec<String>,
    /// Every session the lists or hints have named.
    known: HashMap<String, Known>,
}

impl Dashboard {
    async fn get(&self, endpoint: Endpoint, path: &str) -> Result<Value, CallError> {
        let headers = [("authorization", self.bearer.as_str())];
        self.shared
            .api
            .call(endpoint, Method::GET, path, &headers, None)
            .await
    }

    async fn post(&self, endpoint: Endpoint, path: &str, body: &Value) -> Result<Value, CallError> {
        let headers = [("authorization", self.bearer.as_str())];
        self.shared
            .api
            .call(endpoint, Method::POST, path, &headers, Some(body))
            .await
    }

    /// Every 5 s: the waiting list and the full list (the dashboard shows both).
    async fn refresh_lists(&mut self) {
        self.read_lists(Endpoint::ListWaiting, Endpoint::ListActive)
            .await;
    }

    /// Both lists; what they show becomes what the dashboard knows.
    async fn read_lists(&mut self, waiting: Endpoint, active: Endpoint) {
        if let Ok(data) = self
            .get(
                waiting,
                "/api/admin/chat/active-sessions?waiting=true&limit=100",
            )
            .await
        {
            let rows = data["sessions"].as_array().cloned().unwrap_or_default();
            self.waiting = rows
                .iter()
                .filter_map(|s| s["sessionId"].as_str().map(str::to_owned))
                .collect();
            for row in &rows {
                self.learn(row);
            }
        }
        if let Ok(data) = self
            .get(active, "/api/admin/chat/active-sessions?limit=100")
            .await
        {
            let rows = data["sessions"].as_array().cloned().unwrap_or_default();
            let listed: HashSet<&str> = rows
                .iter()
                .filter_map(|r| r["sessionId"].as_str())
                .collect();
            // One page holds every active session of a run (at most 99): a known session the
            // page lacks has ended.
            if data["nextCursor"].is_null() {
                for (id, known) in self.known.iter_mut() {
                    if !listed.contains(id.as_str()) {
                        known.active = false;
                    }
                }
            }
            for row in &rows {
                self.learn(row);
            }
        }
    }

    /// A list row (from a list or a hint): active or not, waiting since when.
    fn learn(&mut self, row: &Value) {
        let Some(id) = row["sessionId"].as_str() else {
            return;
        };
        let active = row["status"] == "active";
        if !active {
            if let Some(chat) = self.open.as_mut().filter(|c| c.session_id == id) {
                chat.over = true;
            }
        }
        self.known.insert(
            id.to_owned(),
            Known {
                active,
                waiting_since: row["waitingSince"].as_str().map(str::to_owned),
            },
        );
    }

    /// The waiting list from what is known, longest wait first.
    fn waiting_from_known(&mut self) {
        let mut waiting: Vec<(&String, &String)> = self
            .known
            .iter()
            .filter(|(_, k)| k.active)
            .filter_map(|(id, k)| k.waiting_since.as_ref().map(|since| (since, id)))
            .collect();
        waiting.sort();
        self.waiting = waiting.into_iter().map(|(_, id)| id.clone()).collect();
    }

    /// Busy with the open chat: an answer or an end is on its way.
    fn busy(&self) -> bool {
        self.open
            .as_ref()
            .is_some_and(|chat| !chat.over && (chat.unanswered || chat.end_due.is_some()))
    }

    /// Picks the next chat to open: the longest-waiting one this agent serves, claiming
    /// unserved chats of this run up to its share (other sessions in the table are left alone).
    async fn choose_chat(&mut self) {
        if self.busy() {
            return;
        }
        let next = {
            let mut boards = self.shared.boards.lock().unwrap();
            let mine = boards
                .values()
                .filter(|b| b.assigned_to == Some(self.index) && !b.over)
                .count();
            let open_id = self.open.as_ref().map(|c| c.session_id.as_str());
            let mut next = None;
            for id in &self.waiting {
                let Some(board) = boards.get_mut(id) else {
                    continue;
                };
                if board.over || Some(id.as_str()) == open_id {
                    continue;
                }
                match board.assigned_to {
                    Some(agent) if agent == self.index => {}
                    None if mine < self.shared.capacity => board.assigned_to = Some(self.index),
                    _ => continue,
                }
                next = Some(id.clone());
                break;
            }
            next
        };
        if let Some(session_id) = next {
            self.open = Some(OpenChat {
                session_id,
                last_message_id: None,
                unanswered: false,
                reply_due: None,
                reply_key: None,
                reply_attempts: 0,
                end_due: None,
                over: false,
                seen: HashSet::new(),
            });
            // The first read has no cursor: the whole transcript (logged as a view).
            self.poll_chat().await;
        }
    }

    /// chat.js `pollChat`: the open chat's messages after the last one seen.
    async fn poll_chat(&mut self) {
        self.read_chat(Endpoint::TranscriptAfter).await;
    }

    /// The open chat from its cursor (`after`: which endpoint that read is counted as), or
    /// all of it when it has none yet.
    async fn read_chat(&mut self, after_endpoint: Endpoint) {
        let Some(chat) = &self.open else {
            return;
        };
        let (endpoint, path) = match &chat.last_message_id {
            None => (
                Endpoint::OpenTranscript,
                format!("/api/admin/chat/messages/{}", chat.session_id),
            ),
            Some(after) => (
                after_endpoint,
                format!("/api/admin/chat/messages/{}?after={after}", chat.session_id),
            ),
        };
        let seen_by = if endpoint == Endpoint::TranscriptCatchUp {
            Path::CatchUp
        } else {
            Path::Transcript
        };
        let answer = self.get(endpoint, &path).await;
        let at = Instant::now();
        let typing = Duration::from_secs_f64(self.rng.fraction(2.0, 6.0));
        let Some(chat) = self.open.as_mut() else {
            return;
        };
        let data = match answer {
            Ok(data) => data,
            Err(CallError::Refused { status: 404, .. }) => {
                chat.over = true;
                return;
            }
            Err(_) => return,
        };
        for message in data["messages"].as_array().into_iter().flatten() {
            if let Some(id) = message["messageId"].as_str() {
                chat.last_message_id = Some(id.to_owned());
                chat.seen.insert(id.to_owned());
                if message["sender"] == "user" {
                    self.shared
                        .timeline
                        .agent_saw(&chat.session_id, id, at, seen_by);
                }
            }
            chat.unanswered = message["sender"] == "user";
        }
        if chat.unanswered && chat.reply_due.is_none() {
            chat.reply_due = Some(Instant::now() + self.shared.scale.wall(typing));
        }
        if data["session"]["status"] != "active" {
            chat.over = true;
        }
    }

    /// Replies or ends when it is time; drops a chat that is over.
    async fn act(&mut self) {
        let now = Instant::now();
        let Some(chat) = &self.open else {
            return;
        };
        if chat.over {
            self.close_open_chat();
            return;
        }
        if chat.unanswered && chat.reply_due.is_some_and(|due| due <= now) {
            self.reply().await;
        } else if chat.end_due.is_some_and(|due| due <= now) {
            self.end().await;
        }
    }

    async fn reply(&mut self) {
        let key = format!(
            "msg_admin_{:016x}{:016x}",
            self.rng.next_u64(),
            self.rng.next_u64()
        );
        let chat = self.open.as_mut().expect("an open chat");
        // A retry reuses the key, so a reply that did arrive is not stored twice (chat.js).
        let key = chat.reply_key.get_or_insert(key).clone();
        chat.reply_attempts += 1;
        let session_id = chat.session_id.clone();
        let body = json!({
            "sessionId": session_id,
            "message": format!("Support answer {}", chat.reply_attempts),
            "sender": "admin",
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "messageId": key,
        });
        let sent = self
            .post(Endpoint::AdminReply, "/api/admin/chat/message", &body)
            .await;
        let pause = Duration::from_secs_f64(self.rng.fraction(2.0, 6.0));
        let chat = self.open.as_mut().expect("an open chat");
        match sent {
            Ok(data) => {
                let id = data["messageId"].as_str().unwrap_or_default().to_owned();
                self.shared.timeline.committed(&session_id, &id);
                // A push dashboard knows its own reply from the answer; its frame is a repeat.
                if self.shared.push.agents && !id.is_empty() {
                    chat.seen.insert(id.clone());
                    if chat
                        .last_message_id
                        .as_deref()
                        .is_none_or(|cursor| compare_message_ids(&id, cursor).is_gt())
                    {
                        chat.last_message_id = Some(id.clone());
                    }
                }
                let ends_now = {
                    let mut boards = self.shared.boards.lock().unwrap();
                    let board = boards.get_mut(&session_id).expect("a board per chat");
                    board.acknowledged.push(id);
                    board.plan.ender == Ender::Agent
                        && board.acknowledged.len() >= board.plan.user_messages()
                };
                chat.unanswered = false;
                chat.reply_due = None;
                chat.reply_key = None;
                chat.reply_attempts = 0;
                if ends_now {
                    chat.end_due = Some(Instant::now() + self.shared.scale.wall(pause));
                }
            }
            // The chat ended meanwhile (the customer left): nothing to answer.
            Err(CallError::Refused { status, .. }) if (400..500).contains(&status) => {
                chat.over = true;
            }
            Err(_) if chat.reply_attempts < REPLY_ATTEMPTS => return,
            Err(_) => chat.over = true,
        }
        if self.shared.push.agents {
            // The frames and hints that follow say what changed.
            return;
        }
        // chat.js `sendReply`: then `pollChat()` and `refreshSessions()`.
        self.poll_chat().await;
        self.refresh_lists().await;
    }

    async fn end(&mut self) {
        let chat = self.open.as_mut().expect("an open chat");
        chat.end_due = None;
        let body = json!({ "sessionId": chat.session_id });
        let _ = self
            .post(Endpoint::AdminEnd, "/api/admin/chat/session/end", &body)
            .await;
        if !self.shared.push.agents {
            // chat.js `endChat`: then `pollChat()` and `refreshSessions()`.
            self.poll_chat().await;
            self.refresh_lists().await;
        }
        if let Some(chat) = self.open.as_mut() {
            chat.over = true;
        }
        self.close_open_chat();
    }

    fn close_open_chat(&mut self) {
        if let Some(chat) = self.open.take() {
            let mut boards = self.shared.boards.lock().unwrap();
            if let Some(board) = boards.get_mut(&chat.session_id) {
                board.over = true;
                board.assigned_to = None;
            }
        }
    }
}

/// One dashboard until told to stop; returns its token for the check after the run.
async fn agent(
    shared: Arc<Shared>,
    index: usize,
    email: &str,
    password: &str,
    seed: u64,
) -> Option<String> {
    let signed_in = shared
        .api
        .call(
            Endpoint::AdminLogin,
            Method::POST,
            "/api/admin/auth/login",
            &[],
            Some(&json!({ "email": email, "password": password })),
        )
        .await
        .ok()?;
    let token = signed_in["token"].as_str()?.to_owned();
    let mut dashboard = Dashboard {
        shared: shared.clone(),
        index,
        bearer: format!("Bearer {token}"),
        rng: Rng::new(seed),
        open: None,
        waiting: Vec::new(),
        known: HashMap::new(),
    };
    let mut stop = shared.stop_agents.clone();
    if shared.push.agents {
        dashboard.push_loop(&mut stop).await;
    } else {
        dashboard.poll_timers(&mut stop, None).await;
    }
    Some(token)
}

impl Dashboard {
    /// The dashboard's timers (app.js, chat.js): lists every 5 s, the open chat every 2 s;
    /// until told to stop, or for `only_for` (a push dashboard that cannot connect). False when
    /// told to stop.
    async fn poll_timers(
        &mut self,
        stop: &mut watch::Receiver<bool>,
        only_for: Option<Duration>,
    ) -> bool {
        let shared = self.shared.clone();
        let until = only_for.map(|d| Instant::now() + shared.scale.wall(d));
        let far = Instant::now() + Duration::from_secs(86_400);
        let mut lists = tokio::time::interval(shared.scale.wall(LIST_EVERY));
        let mut chat = tokio::time::interval(shared.scale.wall(OPEN_CHAT_EVERY));
        lists.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        chat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stopped(stop) => return false,
                _ = tokio::time::sleep_until(until.unwrap_or(far).into()) => return true,
                _ = lists.tick() => {
                    self.refresh_lists().await;
                    self.choose_chat().await;
                }
                _ = chat.tick() => {
                    self.poll_chat().await;
                    self.act().await;
                    if self.open.is_none() {
                        self.choose_chat().await;
                    }
                }
            }
        }
    }

    /// The future dashboard on the push channel (docs/asyncapi.yaml): one ticket and socket;
    /// on every (re)connect both lists and the open chat from its cursor are read once; then
    /// lists are patched from `lists.changed` rows (re-read when a hint is truncated or names
    /// a session this dashboard does not know) and the open chat from `message.created`
    /// frames. No list or open-chat timer, only a list re-read every 5 minutes as a safety
    /// net: a change goes unannounced only when the consumer gives a batch up (after its
    /// retries, or older than 5 minutes; a hint that loses the `LIST_HINT_MS` gate is noted
    /// and the next hint says `truncated`, shared/src/push/fanout.rs); hints sent while a
    /// socket is being replaced reach nobody, which the re-read on connect covers.
    async fn push_loop(&mut self, stop: &mut watch::Receiver<bool>) {
        let counters = self.shared.push_counters.agents.clone();
        let mut failed = 0u32;
        let mut step = 0u32;
        loop {
            if *stop.borrow() {
                return;
            }
            match self.open_socket(&counters).await {
                Ok(socket) => {
                    failed = 0;
                    match self.connected(socket, stop).await {
                        Gone::Done => return,
                        Gone::Forced => {
                            counters.forced_reconnects.fetch_add(1, Ordering::Relaxed);
                            step = 0;
                        }
                        Gone::Lost => {
                            counters.lost_connections.fetch_add(1, Ordering::Relaxed);
                            let wait = push::backoff(step, self.rng.fraction(0.0, 1.0));
                            step += 1;
                            if !self.pause(wait, stop).await {
                                return;
                            }
                        }
                    }
                }
                Err(_) => {
                    failed += 1;
                    if failed >= push::FAILED_CONNECTS_BEFORE_POLLING {
                        counters.fell_back.fetch_add(1, Ordering::Relaxed);
                        if !self.poll_timers(stop, Some(push::PUSH_RETRY_EVERY)).await {
                            return;
                        }
                        failed = push::FAILED_CONNECTS_BEFORE_POLLING - 1;
                    } else {
                        let wait = push::backoff(step, self.rng.fraction(0.0, 1.0));
                        step += 1;
                        if !self.pause(wait, stop).await {
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn pause(&self, chat_time: Duration, stop: &mut watch::Receiver<bool>) -> bool {
        tokio::select! {
            _ = self.shared.scale.sleep(chat_time) => true,
            _ = stopped(stop) => false,
        }
    }

    async fn open_socket(&self, counters: &Arc<PartyCounters>) -> Result<PushSocket, ConnectError> {
        let ticket = self
            .post(
                Endpoint::AgentTicket,
                "/api/admin/realtime/ticket",
                &json!({}),
            )
            .await;
        let url = match ticket {
            Ok(data) => data["url"].as_str().unwrap_or_default().to_owned(),
            Err(CallError::Refused { status, .. }) => return Err(ConnectError::Refused(status)),
            Err(err) => return Err(ConnectError::Failed(err.to_string())),
        };
        connect_recorded(&self.shared, Endpoint::AgentConnect, &url, counters).await
    }

    /// One connection's life: catch up, then act on frames and on the chat's own timing.
    async fn connected(
        &mut self,
        mut socket: PushSocket,
        stop: &mut watch::Receiver<bool>,
    ) -> Gone {
        let scale = self.shared.scale;
        self.read_lists(Endpoint::ListWaitingOnHint, Endpoint::ListActiveOnHint)
            .await;
        if self.open.is_some() {
            self.read_chat(Endpoint::TranscriptCatchUp).await;
        }
        self.choose_chat().await;
        let mut ping = tokio::time::interval(scale.wall(push::PING_EVERY));
        ping.tick().await;
        let mut safety = tokio::time::interval(scale.wall(LIST_SAFETY_EVERY));
        safety.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        safety.tick().await;
        let far = Instant::now() + Duration::from_secs(86_400);
        let forced = self
            .shared
            .push
            .reconnect_every
            .map(|every| Instant::now() + scale.wall(every));
        loop {
            let due = self
                .open
                .as_ref()
                .and_then(|chat| match (chat.over, chat.unanswered) {
                    (true, _) => Some(Instant::now()),
                    (false, true) => chat.reply_due.or(chat.end_due),
                    (false, false) => chat.end_due,
                })
                .unwrap_or(far);
            tokio::select! {
                _ = stopped(stop) => {
                    socket.close().await;
                    return Gone::Done;
                }
                _ = ping.tick() => socket.ping().await,
                _ = tokio::time::sleep_until(forced.unwrap_or(far).into()) => {
                    socket.close().await;
                    return Gone::Forced;
                }
                _ = safety.tick() => {
                    self.refresh_lists().await;
                    self.choose_chat().await;
                }
                _ = tokio::time::sleep_until(due.into()) => {
                    self.act().await;
                    if self.open.is_none() {
                        self.choose_chat().await;
                    }
                }
                received = socket.frames.recv() => match received {
                    Some(Received::Frame(at, frame)) => {
                        if frame["type"] == "closing" {
                            // agent-deactivated: this account is done.
                            socket.close().await;
                            return Gone::Done;
                        }
                        self.on_frame(at, &frame).await;
                    }
                    Some(Received::Closed) | None => {
                        socket.closed();
                        return Gone::Lost;
                    }
                },
            }
        }
    }

    async fn on_frame(&mut self, at: Instant, frame: &Value) {
        let session = frame["sessionId"].as_str().unwrap_or_default();
        match frame["type"].as_str().unwrap_or_default() {
            "lists.changed" => {
                let rows = frame["data"]["sessions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let unknown = rows.iter().any(|row| {
                    row["sessionId"]
                        .as_str()
                        .is_some_and(|id| !self.known.contains_key(id))
                });
                if frame["data"]["truncated"] == true || unknown {
                    self.read_lists(Endpoint::ListWaitingOnHint, Endpoint::ListActiveOnHint)
                        .await;
                } else {
                    for row in &rows {
                        self.learn(row);
                    }
                    self.waiting_from_known();
                }
                self.choose_chat().await;
            }
            "message.created" => {
                let serves = self
                    .shared
                    .boards
                    .lock()
                    .unwrap()
                    .get(session)
                    .is_some_and(|b| b.assigned_to == Some(self.index));
                if !serves {
                    self.shared
                        .frames_for_other_dashboards
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let message = &frame["data"];
                let Some(id) = message["messageId"].as_str() else {
                    return;
                };
                let from_user = message["sender"] == "user";
                if from_user {
                    self.shared.timeline.agent_saw(session, id, at, Path::Push);
                }
                let typing = Duration::from_secs_f64(self.rng.fraction(2.0, 6.0));
                let Some(chat) = self.open.as_mut().filter(|c| c.session_id == session) else {
                    // A chat it serves but has not open: the hint puts it back in the waiting list.
                    return;
                };
                if !chat.seen.insert(id.to_owned()) {
                    return;
                }
                // Both sides' messages come, so ids follow each other: a gap means a frame is
                // missing, and the read from the cursor brings it (the reference client does).
                let gap = match (
                    chat.last_message_id
                        .as_deref()
                        .and_then(push::message_sequence),
                    push::message_sequence(id),
                ) {
                    (Some(cursor), Some(this)) => this > cursor + 1,
                    _ => false,
                };
                if gap {
                    chat.seen.remove(id);
                    self.read_chat(Endpoint::TranscriptCatchUp).await;
                    return;
                }
                if chat
                    .last_message_id
                    .as_deref()
                    .is_none_or(|cursor| compare_message_ids(id, cursor).is_gt())
                {
                    chat.last_message_id = Some(id.to_owned());
                    chat.unanswered = from_user;
                }
                if chat.unanswered && chat.reply_due.is_none() {
                    chat.reply_due = Some(Instant::now() + self.shared.scale.wall(typing));
                }
            }
            "session.ended" => {
                if let Some(chat) = self.open.as_mut().filter(|c| c.session_id == session) {
                    chat.over = true;
                }
                if let Some(known) = self.known.get_mut(session) {
                    known.active = false;
                }
                self.waiting.retain(|id| id != session);
            }
            _ => {}
        }
    }
}

fn chat_counts(planned: u64, customers: &[CustomerResult], abandoned: u64) -> ChatCounts {
    let count =
        |outcome: ChatOutcome| customers.iter().filter(|c| c.outcome == outcome).count() as u64;
    ChatCounts {
        planned,
        started: customers.iter().filter(|c| c.session_id.is_some()).count() as u64,
        not_started: count(ChatOutcome::NotStarted),
        left_by_customer: count(ChatOutcome::Left),
        ended_by_agent: count(ChatOutcome::EndedByAgent),
        cut_short: count(ChatOutcome::CutShort),
        gave_up_polling: count(ChatOutcome::GaveUpPolling),
        abandoned,
        rated: customers.iter().filter(|c| c.rated).count() as u64,
    }
}

// ---- after the run -------------------------------------------------------------------------

/// Reads every chat's transcript (paged with `after`) to know which replies exist.
async fn verify(
    shared: &Arc<Shared>,
    token: Option<&str>,
    customers: &[CustomerResult],
) -> Vec<ChatDelivery> {
    let limit = Arc::new(Semaphore::new(16));
    let mut reads = JoinSet::new();
    for (i, customer) in customers.iter().enumerate() {
        let (Some(session_id), Some(token)) = (&customer.session_id, token) else {
            continue;
        };
        let (shared, limit) = (shared.clone(), limit.clone());
        let (session_id, bearer) = (session_id.clone(), format!("Bearer {token}"));
        reads.spawn(async move {
            let _permit = limit.acquire().await.expect("open semaphore");
            (i, support_messages(&shared.api, &session_id, &bearer).await)
        });
    }
    let mut stored: HashMap<usize, Vec<String>> = HashMap::new();
    while let Ok(Some(joined)) =
        tokio::time::timeout_at((Instant::now() + DRAIN).into(), reads.join_next()).await
    {
        if let Ok((i, Some(ids))) = joined {
            stored.insert(i, ids);
        }
    }
    reads.abort_all();
    let boards = shared.boards.lock().unwrap();
    customers
        .iter()
        .enumerate()
        .filter_map(|(i, customer)| {
            let session_id = customer.session_id.as_ref()?;
            Some(ChatDelivery {
                stored: stored.remove(&i),
                acknowledged: boards
                    .get(session_id)
                    .map(|b| b.acknowledged.clone())
                    .unwrap_or_default(),
                received: customer.received.clone(),
            })
        })
        .collect()
}

async fn support_messages(api: &Api, session_id: &str, bearer: &str) -> Option<Vec<String>> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            None => format!("/api/admin/chat/messages/{session_id}"),
            Some(after) => format!("/api/admin/chat/messages/{session_id}?after={after}"),
        };
        let data = api
            .call(
                Endpoint::VerifyTranscript,
                Method::GET,
                &path,
                &[("authorization", bearer)],
                None,
            )
            .await
            .ok()?;
        let messages = data["messages"].as_array().cloned().unwrap_or_default();
        for message in &messages {
            let id = message["messageId"].as_str()?.to_owned();
            if message["sender"] == "admin" {
                ids.push(id.clone());
            }
            after = Some(id);
        }
        if data["hasMore"] != true || messages.is_empty() {
            return Some(ids);
        }
    }
}

/// A progress line on stderr: rewritten in place on a terminal, every 10 s otherwise.
async fn progress_line(shared: Arc<Shared>, duration: Duration) {
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(10)
    };
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let elapsed = shared.started.elapsed();
        let stats = shared.api.stats();
        let requests = stats.total_requests();
        let line = format!(
            "[{:>5.1}/{:.0} s] chats open {:>4}, done {:>4} | requests {:>7} ({:.0}/s) | errors {}",
            elapsed.as_secs_f64(),
            duration.as_secs_f64(),
            shared.chats_open.load(Ordering::Relaxed),
            shared.chats_done.load(Ordering::Relaxed),
            requests,
            requests as f64 / elapsed.as_secs_f64().max(0.001),
            stats.total_errors(),
        );
        if terminal {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }
}
