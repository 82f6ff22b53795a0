//! A push client as a test drives it: a ticket from the REST API, a WebSocket opened with it,
//! the frames it receives (deduplicated the way docs/asyncapi.yaml tells clients to).

use crate::{Agent, ApiResponse, ClientSession, TestApp};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a frame that must come: generous, since the stream is polled
/// four times a second and the machines are shared. Waiting less is never asserted.
pub const FRAME_WAIT: Duration = Duration::from_secs(15);
/// How long a test listens to be sure a frame does NOT come.
pub const SILENCE: Duration = Duration::from_millis(1_500);

pub struct PushClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every frame received, in order (duplicates included).
    pub received: Vec<Value>,
}

/// How a connect attempt ended.
#[derive(Debug)]
pub enum Connect {
    Open(Box<PushClient>),
    /// The `$connect` route refused it: API Gateway answers the handshake with this status.
    Refused(u16),
}

impl Connect {
    pub fn open(self) -> PushClient {
        match self {
            Self::Open(client) => *client,
            Self::Refused(status) => panic!("the connection was refused with {status}"),
        }
    }

    pub fn refused(self) -> u16 {
        match self {
            Self::Open(_) => panic!("the connection opened"),
            Self::Refused(status) => status,
        }
    }
}

impl std::fmt::Debug for PushClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PushClient({} frames)", self.received.len())
    }
}

impl TestApp {
    pub async fn customer_ticket(&self, session: &ClientSession) -> ApiResponse {
        self.post_json(
            "/api/chat/realtime/ticket",
            Some(&session.token),
            &json!({ "sessionId": session.session_id }),
        )
        .await
    }

    pub async fn agent_ticket(&self, agent: &Agent) -> ApiResponse {
        self.admin_post("/api/admin/realtime/ticket", &agent.token, &json!({}))
            .await
    }

    /// Opens a WebSocket to `url` (as the ticket answer gives it).
    pub async fn connect_push(&self, url: &str) -> Connect {
        match tokio_tungstenite::connect_async(url).await {
            Ok((socket, _)) => Connect::Open(Box::new(PushClient {
                socket,
                received: Vec::new(),
            })),
            Err(WsError::Http(response)) => Connect::Refused(response.status().as_u16()),
            Err(err) => panic!("cannot reach the push API at {url}: {err}"),
        }
    }

    /// The customer's push connection, open.
    pub async fn customer_push(&self, session: &ClientSession) -> PushClient {
        let ticket = self.customer_ticket(session).await;
        assert_eq!(ticket.status, 200, "{:?}", ticket.body);
        self.connect_push(ticket.data()["url"].as_str().unwrap())
            .await
            .open()
    }

    /// The agent's push connection, open.
    pub async fn agent_push(&self, agent: &Agent) -> PushClient {
        let ticket = self.agent_ticket(agent).await;
        assert_eq!(ticket.status, 200, "{:?}", ticket.body);
        self.connect_push(ticket.data()["url"].as_str().unwrap())
            .await
            .open()
    }
}

impl PushClient {
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.socket
            .send(Message::text(text.into()))
            .await
            .expect("the socket is open");
    }

    /// The next text frame, or `None` when the socket closed or `within` passed.
    pub async fn next_frame(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next()).await;
            match next {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let frame: Value = serde_json::from_str(&text).expect("frames are JSON");
                    self.received.push(frame.clone());
                    return Some(frame);
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(_))) => continue, // pings and pongs of the WebSocket layer
                Err(_) => return None,
            }
        }
    }

    /// Waits for the first frame of `kind` that `matches`, keeping every frame it passes.
    pub async fn expect(&mut self, kind: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + FRAME_WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                Some(frame) if frame["type"] == kind && matches(&frame) => return frame,
                Some(_) => continue,
                None => panic!(
                    "no {kind} frame within {FRAME_WAIT:?}; received {:#?}",
                    self.received
                ),
            }
        }
    }

    /// Asserts nothing of `kind` arrives within [`SILENCE`].
    pub async fn expect_none(&mut self, kind: &str) {
        let deadline = tokio::time::Instant::now() + SILENCE;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                Some(frame) if frame["type"] == kind => panic!("unexpected {kind}: {frame}"),
                Some(_) => continue,
                None => return,
            }
        }
    }

    /// Waits until the server closes the socket; returns the close code.
    pub async fn expect_closed(&mut self) -> Option<CloseCode> {
        let deadline = tokio::time::Instant::now() + FRAME_WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code),
                Ok(Some(Ok(Message::Text(text)))) => {
                    self.received
                        .push(serde_json::from_str(&text).expect("JSON"));
                }
                Ok(Some(Ok(_))) => {}
                Ok(None) | Ok(Some(Err(_))) => return None,
                Err(_) => panic!("the socket stayed open for {FRAME_WAIT:?}"),
            }
        }
    }

    /// The messages received, deduplicated by `messageId`, in arrival order.
    pub fn messages(&self) -> Vec<Value> {
        let mut seen = std::collections::HashSet::new();
        self.received
            .iter()
            .filter(|f| f["type"] == "message.created")
            .filter(|f| {
                seen.insert(
                    f["data"]["messageId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .map(|f| f["data"].clone())
            .collect()
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
