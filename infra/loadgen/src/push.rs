//! The push channel's client side (docs/asyncapi.yaml): one WebSocket per customer or agent,
//! opened with a ticket's `url`; every frame stamped on arrival (the latency measurements need
//! the socket's moment, not the moment the simulation got round to it) and counted, since API
//! Gateway bills each one as a message.

use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// docs/asyncapi.yaml: a ping every 5 minutes keeps API Gateway from closing an idle socket.
pub const PING_EVERY: Duration = Duration::from_secs(5 * 60);
/// Full-jitter backoff between failed connects: below 1 s, doubling to 30 s.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// After this many failed connects in a row, poll as the shipped app does ...
pub const FAILED_CONNECTS_BEFORE_POLLING: u32 = 3;
/// ... and try push again this often.
pub const PUSH_RETRY_EVERY: Duration = Duration::from_secs(60);

/// Which push clients the run uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushMode {
    pub agents: bool,
    pub customers: bool,
    /// Every push socket is closed and replaced (new ticket, catch-up read) this often, in
    /// chat time.
    #[serde(with = "optional_seconds")]
    pub reconnect_every: Option<Duration>,
}

mod optional_seconds {
    use serde::Serializer;
    use std::time::Duration;
    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

impl PushMode {
    pub fn name(&self) -> &'static str {
        match (self.agents, self.customers) {
            (false, false) => "polling",
            (true, false) => "push agents, shipped app polls",
            (false, true) => "push customers, dashboards poll",
            (true, true) => "push on both sides",
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

/// What the reader task hands on.
#[derive(Debug)]
pub enum Received {
    /// A text frame that parsed as JSON, with the moment it arrived.
    Frame(Instant, Value),
    /// The socket closed (by the server, or it broke).
    Closed,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The `$connect` route answered the upgrade with this status (401, 403, 429).
    #[error("refused with {0}")]
    Refused(u16),
    #[error("{0}")]
    Failed(String),
}

/// One open connection: frames arrive on `frames`; pings and the close go out on the sink.
pub struct PushSocket {
    pub frames: mpsc::UnboundedReceiver<Received>,
    sink: SplitSink<Socket, Message>,
    reader: JoinHandle<()>,
    counters: Arc<PartyCounters>,
    opened: Instant,
}

impl PushSocket {
    /// Opens `url` (`ws://` locally, `wss://` on AWS: TLS by rustls on aws-lc-rs with the
    /// system's roots, the stack loadgen's HTTPS already uses).
    pub async fn connect(url: &str, counters: Arc<PartyCounters>) -> Result<Self, ConnectError> {
        let started = Instant::now();
        let result = open(url).await;
        counters
            .connect_latencies_us
            .lock()
            .unwrap()
            .push(started.elapsed().as_micros() as u64);
        let socket = match result {
            Ok(socket) => socket,
            Err(err) => {
                counters.connect_failures.fetch_add(1, Ordering::Relaxed);
                return Err(err);
            }
        };
        counters.connects.fetch_add(1, Ordering::Relaxed);
        let (sink, mut stream) = socket.split();
        let (tx, frames) = mpsc::unbounded_channel();
        let reader_counters = counters.clone();
        let reader = tokio::spawn(async move {
            while let Some(next) = stream.next().await {
                match next {
                    Ok(Message::Text(text)) => {
                        let at = Instant::now();
                        let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        reader_counters.frame(frame["type"].as_str().unwrap_or("(no type)"));
                        if tx.send(Received::Frame(at, frame)).is_err() {
                            return;
                        }
                    }
                    Ok(Message::Close(_)) | Err(_) => break,
                    // WebSocket-level pings and pongs: answered by tungstenite, not billed.
                    Ok(_) => {}
                }
            }
            let _ = tx.send(Received::Closed);
        });
        Ok(PushSocket {
            frames,
            sink,
            reader,
            counters,
            opened: Instant::now(),
        })
    }

    /// `{"action": "ping", "t": <epoch ms>}`, the only frame a client sends.
    pub async fn ping(&mut self) {
        let t = chrono::Utc::now().timestamp_millis();
        let frame = serde_json::json!({ "action": "ping", "t": t }).to_string();
        if self.sink.send(Message::text(frame)).await.is_ok() {
            self.counters.pings_sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Closes from our side (a forced reconnect, or the client is done).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.sink.close()).await;
        self.finish();
    }

    fn finish(&mut self) {
        self.reader.abort();
        self.counters
            .connected_us
            .fetch_add(self.opened.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// The server closed it: account for its time.
    pub fn closed(mut self) {
        self.finish();
    }
}

async fn open(url: &str) -> Result<Socket, ConnectError> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("wss://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("ws://") {
        (false, rest)
    } else {
        return Err(ConnectError::Failed(format!("not a WebSocket URL: {url}")));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host.to_owned(),
            port.parse::<u16>()
                .map_err(|_| ConnectError::Failed(format!("bad port in {url}")))?,
        ),
        None => (authority.to_owned(), if tls { 443 } else { 80 }),
    };
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| ConnectError::Failed(format!("connect: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if tls {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| ConnectError::Failed(format!("server name {host}: {e}")))?;
        let stream = tokio_rustls::TlsConnector::from(tls_config()?)
            .connect(name, tcp)
            .await
            .map_err(|e| ConnectError::Failed(format!("TLS: {e}")))?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    match tokio_tungstenite::client_async(url, io).await {
        Ok((socket, _)) => Ok(socket),
        Err(WsError::Http(response)) => Err(ConnectError::Refused(response.status().as_u16())),
        Err(err) => Err(ConnectError::Failed(err.to_string())),
    }
}

/// One TLS configuration for every socket of the run: the system's roots, read once.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, ConnectError> {
    static CONFIG: std::sync::OnceLock<Result<Arc<rustls::ClientConfig>, String>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                return Err(format!("no system root certificates: {:?}", found.errors));
            }
            roots.add_parsable_certificates(found.certs);
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
        .map_err(ConnectError::Failed)
}

/// Full jitter: uniform below min(30 s, 1 s x 2^step), in chat time.
pub fn backoff(step: u32, random_fraction: f64) -> Duration {
    let cap = FIRST_BACKOFF
        .saturating_mul(1u32 << step.min(16))
        .min(MAX_BACKOFF);
    cap.mul_f64(random_fraction.clamp(0.0, 1.0))
}

/// A message id's sequence (`msg_000000000042` -> 42).
pub fn message_sequence(message_id: &str) -> Option<u64> {
    message_id.strip_prefix("msg_")?.parse().ok()
}

/// What one side's push clients did, in all.
#[derive(Debug, Default)]
pub struct PartyCounters {
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub forced_reconnects: AtomicU64,
    /// Reconnects after the server closed or the socket broke.
    pub lost_connections: AtomicU64,
    pub pings_sent: AtomicU64,
    /// Clients that polled as the shipped app does because push would not connect.
    pub fell_back: AtomicU64,
    /// Wall time connected, summed over sockets.
    pub connected_us: AtomicU64,
    frames: Mutex<BTreeMap<String, u64>>,
    connect_latencies_us: Mutex<Vec<u64>>,
}

impl PartyCounters {
    fn frame(&self, kind: &str) {
        *self
            .frames
            .lock()
            .unwrap()
            .entry(kind.to_owned())
            .or_default() += 1;
    }

    pub fn summarize(&self, time_scale: f64) -> PartySummary {
        let frames = self.frames.lock().unwrap().clone();
        let mut latencies = self.connect_latencies_us.lock().unwrap().clone();
        latencies.sort_unstable();
        let at = |p: f64| crate::stats::percentile(&latencies, p) as f64 / 1000.0;
        PartySummary {
            connects: self.connects.load(Ordering::Relaxed),
            connect_failures: self.connect_failures.load(Ordering::Relaxed),
            connect_p50_ms: at(50.0),
            connect_p99_ms: at(99.0),
            forced_reconnects: self.forced_reconnects.load(Ordering::Relaxed),
            lost_connections: self.lost_connections.load(Ordering::Relaxed),
            pings_sent: self.pings_sent.load(Ordering::Relaxed),
            fell_back_to_polling: self.fell_back.load(Ordering::Relaxed),
            frames_received: frames.values().sum(),
            connected_chat_s: self.connected_us.load(Ordering::Relaxed) as f64 / 1e6 * time_scale,
            frames,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PartySummary {
    pub connects: u64,
    pub connect_failures: u64,
    pub connect_p50_ms: f64,
    pub connect_p99_ms: f64,
    pub forced_reconnects: u64,
    pub lost_connections: u64,
    pub pings_sent: u64,
    pub fell_back_to_polling: u64,
    /// Text frames received (every one a billed message on AWS), by `type`.
    pub frames_received: u64,
    pub frames: BTreeMap<String, u64>,
    /// Socket time, summed, in chat time (connection minutes are billed).
    pub connected_chat_s: f64,
}

/// Both sides' counters.
#[derive(Debug, Default)]
pub struct PushCounters {
    pub customers: Arc<PartyCounters>,
    pub agents: Arc<PartyCounters>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_doubling_to_thirty_seconds() {
        assert_eq!(
            backoff(0, 0.999_999),
            Duration::from_secs(1).mul_f64(0.999_999)
        );
        assert_eq!(backoff(3, 0.5), Duration::from_secs(4));
        assert_eq!(backoff(10, 1.0), MAX_BACKOFF);
        assert_eq!(backoff(40, 0.0), Duration::ZERO);
    }

    #[test]
    fn message_ids_give_their_sequence() {
        assert_eq!(message_sequence("msg_000000000042"), Some(42));
        assert_eq!(message_sequence("msg_admin_x"), None);
    }

    #[test]
    fn mode_names_say_who_pushes() {
        let both = PushMode {
            agents: true,
            customers: true,
            reconnect_every: None,
        };
        assert_eq!(both.name(), "push on both sides");
        assert_eq!(PushMode::default().name(), "polling");
    }

    #[tokio::test]
    async fn a_url_that_is_not_a_websocket_is_refused_before_any_connect() {
        let counters = Arc::new(PartyCounters::default());
        let err = PushSocket::connect("http://127.0.0.1:1/v1", counters.clone())
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ConnectError::Failed(_)), "{err}");
        assert_eq!(counters.summarize(1.0).connect_failures, 1);
    }
}
