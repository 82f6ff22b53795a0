//! The simulation: one task per customer (the shipped app: its poll timer and its sends), one
//! per agent's dashboard (list timer and open-chat timer), then the delivery check.

use crate::api::{Api, CallError, SetupError};
use crate::config::RunConfig;
use crate::delivery::{self, ChatDelivery};
use crate::plan::{plan_chats, ChatPlan, Ender, Rng, TimeScale};
use crate::report::{ChatCounts, Report};
use crate::stats::{Endpoint, Stats};
use http::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
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
    Ok(report)
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
}

struct App {
    shared: Arc<Shared>,
    session_id: String,
    token: String,
    state: Mutex<AppState>,
    stop_polling: AtomicBool,
}

impl App {
    fn headers(&self) -> [(&str, &str); 1] {
        [("x-chat-token", self.token.as_str())]
    }

    /// docs/contract.md §C3: poll after `lastMessageId`; show every message; move the cursor to
    /// the last.
    async fn poll_once(&self) {
        loop {
            let cursor = self.state.lock().unwrap().last_message_id.clone();
            // The app builds the URL from `this.lastMessageId`, which is undefined before the
            // first message: the API accepts the literal "undefined" as "from the start".
            let path = format!(
                "/api/chat/poll/{}?after={}",
                self.session_id,
                cursor.as_deref().unwrap_or("undefined")
            );
            let answer = self
                .shared
                .api
                .call(Endpoint::Poll, Method::GET, &path, &self.headers(), None)
                .await;
            let mut state = self.state.lock().unwrap();
            let data = match answer {
                Ok(data) => data,
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
                    state.received.push(id.to_owned());
                }
            }
            if let Some(last) = messages.last().and_then(|m| m["messageId"].as_str()) {
                state.last_message_id = Some(last.to_owned());
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
            self.poll_once().await;
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
            self.state.lock().unwrap().last_message_id = Some(id.to_owned());
        }
        Ok(())
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

async fn customer(shared: Arc<Shared>, plan: ChatPlan, session_id: String) -> CustomerResult {
    let not_started = CustomerResult {
        session_id: None,
        outcome: ChatOutcome::NotStarted,
        rated: false,
        received: Vec::new(),
        slow_polls: 0,
        chat_length: None,
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
    });
    let poller = tokio::spawn(app.clone().poll_loop());

    let mut rng = Rng::new(plan.index as u64 ^ 0xC057);
    let mut outcome = script(&app, &plan, &mut rng).await;
    if outcome == ChatOutcome::Left || outcome == ChatOutcome::CutShort {
        let _ = app.leave().await;
        app.stop_polling.store(true, Ordering::Relaxed);
        let _ = poller.await;
        // One poll after leaving, so that a reply committed before the leave but after the
        // last poll counts as delivered or lost rather than as "left before it arrived".
        if !app.state.lock().unwrap().gave_up {
            app.poll_once().await;
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
}

struct Dashboard {
    shared: Arc<Shared>,
    index: usize,
    bearer: String,
    rng: Rng,
    open: Option<OpenChat>,
    /// The last waiting list, longest wait first.
    waiting: Vec<String>,
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
        if let Ok(data) = self
            .get(
                Endpoint::ListWaiting,
                "/api/admin/chat/active-sessions?waiting=true&limit=100",
            )
            .await
        {
            self.waiting = data["sessions"]
                .as_array()
                .map(|sessions| {
                    sessions
                        .iter()
                        .filter_map(|s| s["sessionId"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
        }
        let _ = self
            .get(
                Endpoint::ListActive,
                "/api/admin/chat/active-sessions?limit=100",
            )
            .await;
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
            });
            // The first read has no cursor: the whole transcript (logged as a view).
            self.poll_chat().await;
        }
    }

    /// chat.js `pollChat`: the open chat's messages after the last one seen.
    async fn poll_chat(&mut self) {
        let Some(chat) = &self.open else {
            return;
        };
        let (endpoint, path) = match &chat.last_message_id {
            None => (
                Endpoint::OpenTranscript,
                format!("/api/admin/chat/messages/{}", chat.session_id),
            ),
            Some(after) => (
                Endpoint::TranscriptAfter,
                format!("/api/admin/chat/messages/{}?after={after}", chat.session_id),
            ),
        };
        let answer = self.get(endpoint, &path).await;
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
        // chat.js `endChat`: then `pollChat()` and `refreshSessions()`.
        self.poll_chat().await;
        self.refresh_lists().await;
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
    };
    let mut stop = shared.stop_agents.clone();
    let mut lists = tokio::time::interval(shared.scale.wall(LIST_EVERY));
    let mut chat = tokio::time::interval(shared.scale.wall(OPEN_CHAT_EVERY));
    lists.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    chat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = lists.tick() => {
                dashboard.refresh_lists().await;
                dashboard.choose_chat().await;
            }
            _ = chat.tick() => {
                dashboard.poll_chat().await;
                dashboard.act().await;
                if dashboard.open.is_none() {
                    dashboard.choose_chat().await;
                }
            }
        }
    }
    Some(token)
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
