//! The local WebSocket API: what API Gateway's WebSocket API does in front of its Lambda proxy
//! integrations, on the REST API's port, at `/{stage}` and at `/`.
//!
//! - An upgrade request becomes the `$connect` event; the connection opens only if that
//!   function answers 2xx, otherwise the client gets its status as a plain HTTP response.
//! - A text frame becomes a `MESSAGE` event on the route its body selects (the route selection
//!   expression, e.g. `$request.body.action`), else `$default`; a route with a route response
//!   sends the function's body back as a frame. Binary frames close with 1003, a frame over
//!   32 KB or a message over 128 KB with 1009 (API Gateway's limits).
//! - Ten minutes without a message either way, or two hours after connecting, API Gateway
//!   closes with 1001 "Going away"; here on the app's clock, so that tests move time.
//! - Any close becomes the `$disconnect` event, with its status code and reason.
//! - The management API, `/{stage}/@connections/{id}`: `POST` sends a frame, `GET` describes
//!   the connection, `DELETE` closes it with 1000; an unknown or closed connection, or one
//!   whose `$connect` has not answered yet, is 410 `GoneException`.
//! - Each route's throttle (the stage's `DefaultRouteSettings`, or its `RouteSettings`) is a
//!   token bucket: a throttled `$connect` is 429, a throttled message is answered with
//!   API Gateway's error frame.

use crate::error::GatewayError;
use crate::request_parts::{or_null, query_pairs, single_and_multi};
use crate::template::{TemplateError, WebSocketApiSpec};
use crate::throttle::TokenBucket;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body as LambdaBody;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::Bytes;
use chat_core::clock::iso8601;
use chat_core::endpoint::{Handler, SocketFuture};
use chat_core::{App, Endpoint};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, SinkExt, StreamExt};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// API Gateway's WebSocket limits (its quotas page).
pub const MAX_FRAME_BYTES: usize = 32 << 10;
pub const MAX_MESSAGE_BYTES: usize = 128 << 10;
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
pub const MAX_CONNECTION_DURATION: Duration = Duration::from_secs(2 * 60 * 60);

/// How often (real time) a connection compares the app's clock with its deadlines.
const CLOCK_CHECK_EVERY: Duration = Duration::from_millis(200);
/// How long a closing connection waits for the client's close frame.
const CLOSE_HANDSHAKE_WAIT: Duration = Duration::from_secs(1);
/// What API Gateway reports when the client's close frame carries no status.
const NO_STATUS_REASON: &str = "Client-side close frame status not set";
/// The request context's `apiId` (the REST API's events say the same).
const API_ID: &str = "local";

type SocketHandle = for<'a> fn(&'a App, ApiGatewayWebsocketProxyRequest) -> SocketFuture<'a>;

struct SocketRoute {
    endpoint: &'static str,
    handle: SocketHandle,
    route_response: bool,
    throttle: Option<TokenBucket>,
}

/// What a connection is, for its events and for `GET @connections/{id}`.
struct Connection {
    id: String,
    connected_at: DateTime<Utc>,
    /// The last data frame either way: API Gateway's idle timer counts server posts too
    /// (a server keep-alive every 9.5 minutes holds a connection to the 2 h mark).
    last_active_at: Mutex<DateTime<Utc>>,
    source_ip: String,
    user_agent: Option<String>,
    domain_name: String,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

enum Outgoing {
    Frame(Message),
    Close(CloseCode, &'static str),
}

/// How a connection ended.
enum Ending {
    /// The client sent a close frame (or none: 1005).
    Client(u16, String),
    /// We close it; `unread_input` when the client's frame was refused half-read.
    Server {
        code: CloseCode,
        reason: &'static str,
        unread_input: bool,
    },
    /// The TCP connection broke without a close frame.
    Abnormal,
}

pub struct WebSocketApi {
    app: Arc<App>,
    stage: String,
    /// The JSON path of the route selection expression in a message's body.
    selection: Vec<String>,
    routes: HashMap<String, SocketRoute>,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
}

impl WebSocketApi {
    /// Each route of `spec` served by the `Endpoint` named as its function's crate.
    pub fn new(
        app: Arc<App>,
        spec: WebSocketApiSpec,
        endpoints: &[Endpoint],
    ) -> Result<Self, GatewayError> {
        let selection = selection_path(&spec.route_selection_expression).ok_or_else(|| {
            TemplateError::Shape(format!(
                "{}: route selection expression {:?} is not $request.body.<field>",
                spec.logical_id, spec.route_selection_expression
            ))
        })?;
        let mut routes = HashMap::new();
        for route in spec.routes {
            let endpoint = endpoints
                .iter()
                .find(|e| e.name == route.function)
                .ok_or_else(|| GatewayError::UnknownFunction {
                    route: format!("WebSocket {}", route.key),
                    function: route.function.clone(),
                })?;
            let Handler::Socket(handle) = endpoint.handler else {
                return Err(GatewayError::NotASocketHandler {
                    route: route.key,
                    function: route.function,
                });
            };
            routes.insert(
                route.key,
                SocketRoute {
                    endpoint: endpoint.name,
                    handle,
                    route_response: route.route_response,
                    throttle: route.throttle.map(TokenBucket::new),
                },
            );
        }
        Ok(Self {
            app,
            stage: spec.stage,
            selection,
            routes,
            connections: Mutex::new(HashMap::new()),
        })
    }

    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// Connections open now (`$connect` answered 2xx, not closed yet).
    pub fn open_connections(&self) -> usize {
        self.connections.lock().expect("connections lock").len()
    }

    /// Whether an upgrade request to `path` is for this API: its stage URL, or the root as
    /// behind a custom domain (as the REST routes).
    pub(crate) fn serves_upgrade_at(&self, path: &str) -> bool {
        path == "/" || path.strip_prefix('/') == Some(self.stage.as_str())
    }

    /// The connection id of a management API path, `/{stage}/@connections/{id}`.
    pub(crate) fn management_target(&self, path: &str) -> Option<String> {
        let id = path
            .strip_prefix('/')?
            .strip_prefix(self.stage.as_str())?
            .strip_prefix("/@connections/")?;
        (!id.is_empty() && !id.contains('/')).then(|| {
            percent_encoding::percent_decode_str(id)
                .decode_utf8_lossy()
                .into_owned()
        })
    }

    /// Closes every connection with 1001, as a stage going away would.
    pub(crate) fn close_all(&self) {
        let connections: Vec<_> = self
            .connections
            .lock()
            .expect("connections lock")
            .drain()
            .map(|(_, connection)| connection)
            .collect();
        for connection in connections {
            let _ = connection
                .outbox
                .send(Outgoing::Close(CloseCode::Away, "Going away"));
        }
    }

    /// An upgrade request: the `$connect` route decides whether it becomes a connection.
    pub(crate) async fn connect(
        self: &Arc<Self>,
        mut request: hyper::Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let on_upgrade = hyper::upgrade::on(&mut request);
        let (parts, _) = request.into_parts();
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .map(|key| derive_accept_key(key.as_bytes()));
        let version_13 = parts
            .headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v.as_bytes() == b"13");
        let (Some(accept), true, true) = (key, version_13, parts.method == Method::GET) else {
            return plain(StatusCode::BAD_REQUEST, json!({"message": "Bad Request"}));
        };

        let now = self.app.chat.now();
        let connection_id = aws_id();
        let (outbox, inbox) = mpsc::unbounded_channel();
        let connection = Arc::new(Connection {
            id: connection_id.clone(),
            connected_at: now,
            last_active_at: Mutex::new(now),
            source_ip: peer.ip().to_string(),
            user_agent: header_text(&parts.headers, header::USER_AGENT),
            domain_name: header_text(&parts.headers, header::HOST)
                .unwrap_or_else(|| local.to_string()),
            outbox,
        });
        let mut answer_headers = HeaderMap::new();
        // Without a $connect route API Gateway accepts every connection.
        if let Some(route) = self.routes.get("$connect") {
            if route.throttle.as_ref().is_some_and(|b| !b.try_take()) {
                return plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"message": "Too Many Requests"}),
                );
            }
            let event = self.connect_event(&connection, &parts, peer, local);
            let Some(response) = self.invoke(route, event).await else {
                return plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"message": "Internal server error"}),
                );
            };
            if !(200..300).contains(&response.status_code) {
                // Only the status: no client may rely on a body API Gateway is not known to pass.
                let status = u16::try_from(response.status_code)
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return empty(status);
            }
            // A client asking for subprotocols gets the one the function chose.
            if let Some(protocol) = response.headers.get(header::SEC_WEBSOCKET_PROTOCOL) {
                answer_headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol.clone());
            }
        }
        // The connection exists from here on: before this, a post to it is Gone.
        self.connections
            .lock()
            .expect("connections lock")
            .insert(connection_id, Arc::clone(&connection));
        let api = Arc::clone(self);
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let config = WebSocketConfig::default()
                        .max_frame_size(Some(MAX_FRAME_BYTES))
                        .max_message_size(Some(MAX_MESSAGE_BYTES));
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    api.run(connection, socket, inbox).await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the WebSocket upgrade failed");
                    api.forget(&connection);
                    api.disconnect(&connection, 1006, String::new()).await;
                }
            }
        });

        let mut response = hyper::Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        headers.extend(answer_headers);
        response
    }

    /// The management API (`@connections`), as the functions' SDK client calls it.
    pub(crate) fn manage(
        &self,
        method: &Method,
        connection_id: &str,
        body: &Bytes,
    ) -> hyper::Response<Full<Bytes>> {
        let connection = self
            .connections
            .lock()
            .expect("connections lock")
            .get(connection_id)
            .cloned();
        let Some(connection) = connection else {
            return aws_error(StatusCode::GONE, "GoneException");
        };
        match *method {
            Method::POST => {
                if body.len() > MAX_MESSAGE_BYTES {
                    return aws_error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeException");
                }
                let frame = match std::str::from_utf8(body) {
                    Ok(text) => {
                        test_support::pushed_frames::record(text);
                        Message::text(text)
                    }
                    Err(_) => Message::Binary(body.clone()),
                };
                match connection.outbox.send(Outgoing::Frame(frame)) {
                    Ok(()) => empty(StatusCode::OK),
                    Err(_) => aws_error(StatusCode::GONE, "GoneException"),
                }
            }
            Method::GET => {
                let last_active_at = *connection.last_active_at.lock().expect("last active lock");
                plain(
                    StatusCode::OK,
                    json!({
                        "connectedAt": iso8601(connection.connected_at),
                        "identity": {
                            "sourceIp": connection.source_ip,
                            "userAgent": connection.user_agent,
                        },
                        "lastActiveAt": iso8601(last_active_at),
                    }),
                )
            }
            Method::DELETE => {
                self.forget(&connection);
                let _ = connection
                    .outbox
                    .send(Outgoing::Close(CloseCode::Normal, ""));
                empty(StatusCode::NO_CONTENT)
            }
            _ => aws_error(StatusCode::NOT_FOUND, "NotFoundException"),
        }
    }

    /// The open connection: client frames in, posts out, deadlines checked, until it closes.
    async fn run(
        self: Arc<Self>,
        connection: Arc<Connection>,
        mut socket: WebSocketStream<TokioIo<Upgraded>>,
        mut inbox: mpsc::UnboundedReceiver<Outgoing>,
    ) {
        let mut clock_check = tokio::time::interval(CLOCK_CHECK_EVERY);
        clock_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ending = loop {
            tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        self.mark_active(&connection);
                        if let Some(reply) = self.on_message(&connection, text.as_str()).await {
                            self.mark_active(&connection);
                            if socket.send(reply).await.is_err() {
                                break Ending::Abnormal;
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break Ending::Server {
                            code: CloseCode::Unsupported,
                            reason: "Binary frames are not supported",
                            unread_input: false,
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        break match frame {
                            Some(frame) => Ending::Client(frame.code.into(), frame.reason.to_string()),
                            None => Ending::Client(1005, NO_STATUS_REASON.to_owned()),
                        }
                    }
                    // Pings are answered by tungstenite itself; they are not messages.
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => {
                        break Ending::Server {
                            code: CloseCode::Size,
                            reason: "Message too big",
                            unread_input: true,
                        }
                    }
                    Some(Err(_)) | None => break Ending::Abnormal,
                },
                outgoing = inbox.recv() => match outgoing {
                    Some(Outgoing::Frame(frame)) => {
                        self.mark_active(&connection);
                        if socket.send(frame).await.is_err() {
                            break Ending::Abnormal;
                        }
                    }
                    Some(Outgoing::Close(code, reason)) => {
                        break Ending::Server { code, reason, unread_input: false }
                    }
                    None => break Ending::Abnormal,
                },
                _ = clock_check.tick() => {
                    if self.past_deadline(&connection) {
                        break Ending::Server {
                            code: CloseCode::Away,
                            reason: "Going away",
                            unread_input: false,
                        };
                    }
                }
            }
        };
        self.forget(&connection);
        let (code, reason) = match ending {
            Ending::Client(code, reason) => {
                // Sends tungstenite's queued reply to the client's close frame.
                let _ = socket.flush().await;
                (code, reason)
            }
            Ending::Server {
                code,
                reason,
                unread_input,
            } => {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                if socket.close(Some(frame)).await.is_ok() {
                    let _ = tokio::time::timeout(CLOSE_HANDSHAKE_WAIT, async {
                        while let Some(Ok(_)) = socket.next().await {}
                        if unread_input {
                            // The rest of the refused frame: dropping the socket with unread
                            // bytes would reset it before the client reads our close frame.
                            let mut sink = [0u8; 16 << 10];
                            while matches!(socket.get_mut().read(&mut sink).await, Ok(n) if n > 0) {
                            }
                        }
                    })
                    .await;
                }
                (code.into(), reason.to_owned())
            }
            Ending::Abnormal => (1006, String::new()),
        };
        drop(socket);
        self.disconnect(&connection, code, reason).await;
    }

    fn mark_active(&self, connection: &Connection) {
        *connection.last_active_at.lock().expect("last active lock") = self.app.chat.now();
    }

    fn past_deadline(&self, connection: &Connection) -> bool {
        let now = self.app.chat.now();
        let last_active_at = *connection.last_active_at.lock().expect("last active lock");
        let over = |since: DateTime<Utc>, limit: Duration| {
            (now - since).to_std().is_ok_and(|elapsed| elapsed >= limit)
        };
        over(last_active_at, IDLE_TIMEOUT) || over(connection.connected_at, MAX_CONNECTION_DURATION)
    }

    fn forget(&self, connection: &Connection) {
        self.connections
            .lock()
            .expect("connections lock")
            .remove(&connection.id);
    }

    /// A client message: its route's function, and what goes back to the client, if anything.
    async fn on_message(&self, connection: &Connection, body: &str) -> Option<Message> {
        let request_id = aws_id();
        let Some((route_key, route)) = self.route_for(body) else {
            return Some(error_frame("Forbidden", connection, &request_id));
        };
        if route.throttle.as_ref().is_some_and(|b| !b.try_take()) {
            return Some(error_frame("Too Many Requests", connection, &request_id));
        }
        let mut context = self.request_context(connection, route_key, "MESSAGE", &request_id);
        context.insert("messageId".into(), Value::String(aws_id()));
        let event = json!({
            "requestContext": context,
            "body": body,
            "isBase64Encoded": false,
        });
        let Some(response) = self.invoke(route, event).await else {
            return Some(error_frame(
                "Internal server error",
                connection,
                &request_id,
            ));
        };
        if !route.route_response {
            return None;
        }
        match response.body {
            Some(LambdaBody::Text(text)) if !text.is_empty() => {
                test_support::pushed_frames::record(&text);
                Some(Message::text(text))
            }
            Some(LambdaBody::Binary(bytes)) if !bytes.is_empty() => {
                Some(Message::Binary(bytes.into()))
            }
            _ => None,
        }
    }

    /// The route the body selects, else `$default`; none if there is no `$default` either.
    fn route_for(&self, body: &str) -> Option<(&str, &SocketRoute)> {
        let selected = serde_json::from_str::<Value>(body).ok().and_then(|json| {
            let value = self
                .selection
                .iter()
                .try_fold(&json, |value, field| value.get(field))?;
            match value {
                Value::String(text) => Some(text.clone()),
                Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
                _ => None,
            }
        });
        selected
            .filter(|key| !matches!(key.as_str(), "$connect" | "$disconnect"))
            .and_then(|key| self.routes.get_key_value(key.as_str()))
            .or_else(|| self.routes.get_key_value("$default"))
            .map(|(key, route)| (key.as_str(), route))
    }

    async fn disconnect(&self, connection: &Connection, status_code: u16, reason: String) {
        let Some(route) = self.routes.get("$disconnect") else {
            return;
        };
        let request_id = aws_id();
        let mut context =
            self.request_context(connection, "$disconnect", "DISCONNECT", &request_id);
        context.insert("disconnectStatusCode".into(), json!(status_code));
        context.insert("disconnectReason".into(), json!(reason));
        // The headers API Gateway sends with every $disconnect, whatever the client sent.
        let (headers, multi_headers) = single_and_multi([
            ("Host".to_owned(), connection.domain_name.clone()),
            ("x-api-key".to_owned(), String::new()),
            ("X-Forwarded-For".to_owned(), String::new()),
            ("x-restapi".to_owned(), String::new()),
        ]);
        let event = json!({
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "requestContext": context,
            "isBase64Encoded": false,
        });
        self.invoke(route, event).await;
    }

    fn connect_event(
        &self,
        connection: &Connection,
        parts: &http::request::Parts,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Value {
        // Hop-by-hop headers of the upgrade do not reach the function; API Gateway's own do.
        let client_headers = parts
            .headers
            .iter()
            .filter(|(name, _)| *name != header::CONNECTION && *name != header::UPGRADE)
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            });
        let trace_id = format!(
            "Root=1-{:08x}-{}",
            connection.connected_at.timestamp(),
            chat_core::ids::hex(&chat_core::ids::random_bytes::<12>())
        );
        let (headers, multi_headers) = single_and_multi(client_headers.chain([
            ("x-amzn-trace-id".to_owned(), trace_id),
            ("x-forwarded-for".to_owned(), peer.ip().to_string()),
            ("x-forwarded-port".to_owned(), local.port().to_string()),
            ("x-forwarded-proto".to_owned(), "http".to_owned()),
        ]));
        let (query, multi_query) = single_and_multi(query_pairs(parts.uri.query()));
        let request_id = aws_id();
        let mut event = json!({
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "requestContext": self.request_context(connection, "$connect", "CONNECT", &request_id),
            "isBase64Encoded": false,
        });
        // API Gateway leaves them out when the URL has no query string.
        if !query.is_empty() {
            event["queryStringParameters"] = or_null(query);
            event["multiValueQueryStringParameters"] = or_null(multi_query);
        }
        event
    }

    fn request_context(
        &self,
        connection: &Connection,
        route_key: &str,
        event_type: &str,
        request_id: &str,
    ) -> Map<String, Value> {
        let now = self.app.chat.now();
        let context = json!({
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": connection.connected_at.timestamp_millis(),
            "requestTimeEpoch": now.timestamp_millis(),
            "identity": {
                "sourceIp": connection.source_ip,
                "userAgent": connection.user_agent,
            },
            "requestId": request_id,
            "domainName": connection.domain_name,
            "connectionId": connection.id,
            "apiId": API_ID,
        });
        match context {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        }
    }

    /// Runs the route's function as Lambda would: the event deserialized as the runtime
    /// does, the DynamoDB calls attributed to the function. `None` if it failed (panicked).
    async fn invoke(&self, route: &SocketRoute, event: Value) -> Option<ApiGatewayProxyResponse> {
        let request: ApiGatewayWebsocketProxyRequest = match serde_json::from_value(event) {
            Ok(request) => request,
            Err(err) => {
                tracing::error!(error = %err, "the WebSocket event does not deserialize");
                return None;
            }
        };
        let started = std::time::Instant::now();
        let call =
            test_support::iam_calls::serving(route.endpoint, (route.handle)(&self.app, request));
        match AssertUnwindSafe(call).catch_unwind().await {
            Ok(response) => {
                tracing::info!(
                    function = route.endpoint,
                    status = response.status_code,
                    ms = started.elapsed().as_millis() as u64,
                    "websocket route"
                );
                Some(response)
            }
            Err(_) => {
                tracing::error!(
                    function = route.endpoint,
                    "the WebSocket route's function panicked"
                );
                None
            }
        }
    }
}

/// `$request.body.action` (or `${request.body.action}`) as the path `["action"]`.
fn selection_path(expression: &str) -> Option<Vec<String>> {
    let inner = expression
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .or_else(|| expression.strip_prefix('$'))?;
    let path: Vec<String> = inner
        .strip_prefix("request.body.")?
        .split('.')
        .map(str::to_owned)
        .collect();
    path.iter().all(|field| !field.is_empty()).then_some(path)
}

/// An id as API Gateway's connection and request ids look: 16 base64 characters ending `=`.
fn aws_id() -> String {
    BASE64.encode(chat_core::ids::random_bytes::<11>())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// API Gateway's frame for a message it did not pass on.
fn error_frame(message: &str, connection: &Connection, request_id: &str) -> Message {
    Message::text(format!(
        r#"{{"message": "{message}", "connectionId":"{}", "requestId":"{request_id}"}}"#,
        connection.id
    ))
}

fn plain(status: StatusCode, body: Value) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn empty(status: StatusCode) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// A management API error as the SDK reads it: the error type in `x-amzn-ErrorType`.
fn aws_error(status: StatusCode, error_type: &'static str) -> hyper::Response<Full<Bytes>> {
    let mut response = plain(status, json!({"message": null}));
    response
        .headers_mut()
        .insert("x-amzn-ErrorType", HeaderValue::from_static(error_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_selection_expressions() {
        assert_eq!(selection_path("$request.body.action").unwrap(), ["action"]);
        assert_eq!(
            selection_path("${request.body.meta.kind}").unwrap(),
            ["meta", "kind"]
        );
        assert!(selection_path("$request.header.x").is_none());
        assert!(selection_path("$request.body.").is_none());
    }

    #[test]
    fn ids_look_like_api_gateways() {
        let id = aws_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('=') && !id.ends_with("=="), "{id}");
        assert_ne!(id, aws_id());
    }
}
