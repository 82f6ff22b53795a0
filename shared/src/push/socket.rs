//! The WebSocket API's routes: `$connect` (the ticket decides), `$disconnect`, and `$default`
//! (ping; anything else answered with an error frame). Their answers go back through API
//! Gateway: `$connect`'s status opens or refuses the socket, `$default`'s body is the reply
//! frame (the route has a route response).

use crate::chat::realtime::ConnectRefusal;
use crate::clock::iso8601;
use crate::ids::SessionId;
use crate::store::{StoreError, ViewOutcome};
use crate::App;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use serde_json::{json, Value};

/// The longest client frame we read (API Gateway's own limit is 32 KB a frame): a ping is
/// tiny, anything near this is not our protocol.
pub const MAX_CLIENT_FRAME_BYTES: usize = 1024;

fn answer(status: i64, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = body.map(Body::Text);
    response
}

fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Option<&str> {
    event.request_context.connection_id.as_deref()
}

/// `$connect?ticket=…`: 200 opens the socket; 401 for a bad, used or expired ticket; 403
/// when its session ended or its agent was deactivated since; 500 when DynamoDB failed (the
/// client asks for a new ticket and tries again, or polls).
pub async fn connect(app: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let Some(connection) = connection_id(&event) else {
        return answer(400, None);
    };
    let ticket = event.query_string_parameters.first("ticket");
    match app.chat.open_push_connection(ticket, connection).await {
        Ok(holder) => {
            tracing::info!(connection, ?holder, "push connection opened");
            answer(200, None)
        }
        Err(ConnectRefusal::BadTicket) => answer(401, None),
        Err(ConnectRefusal::NotAllowed) => answer(403, None),
        // DynamoDB shedding load: "try again", as the REST API's 503 says.
        Err(ConnectRefusal::Store(err @ StoreError::Unavailable(_))) => {
            tracing::warn!(error = %err, "push connect: DynamoDB unavailable");
            answer(503, None)
        }
        Err(ConnectRefusal::Store(err)) => {
            tracing::error!(error = %err, "push connect failed");
            answer(500, None)
        }
    }
}

/// `$disconnect`: forgets the connection; API Gateway ignores the answer.
pub async fn disconnect(
    app: &App,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    if let Some(connection) = connection_id(&event) {
        if let Err(err) = app.chat.close_push_connection(connection).await {
            tracing::warn!(error = %err, connection, "could not forget a closed connection");
        }
    }
    answer(200, None)
}

/// `$default`: `{"action": "ping", "t": …}` gets `pong`; an agent's `{"action": "view",
/// "sessionId": …}` (the chat its dashboard shows, or null) gets `viewing` once stored; anything
/// else an `error` frame with the reason.
pub async fn message(app: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let connection = connection_id(&event).unwrap_or_default();
    let allowed = FLOOD_GUARD.allow(connection, std::time::Instant::now());
    let at = iso8601(app.chat.now());
    let reply = match read_frame(event.body.as_deref().unwrap_or(""), allowed) {
        Ok(ClientFrame::Ping(t)) => json!({ "type": "pong", "at": at, "data": { "t": t } }),
        Ok(ClientFrame::View(session)) => view(app, connection, session.as_ref(), &at).await,
        Err((code, message)) => error_frame(&at, code, message),
    };
    answer(200, Some(reply.to_string()))
}

fn error_frame(at: &str, code: &str, message: &str) -> Value {
    json!({ "type": "error", "at": at, "data": { "code": code, "message": message } })
}

async fn view(app: &App, connection: &str, session: Option<&SessionId>, at: &str) -> Value {
    match app.chat.view_push_session(connection, session).await {
        Ok(ViewOutcome::Viewing(session)) => {
            json!({ "type": "viewing", "at": at, "data": { "sessionId": session } })
        }
        Ok(ViewOutcome::NotAnAgent) => error_frame(at, "NOT_AN_AGENT", "only agents view sessions"),
        Ok(ViewOutcome::AgentRetired) => {
            error_frame(at, "NOT_ALLOWED", "this agent may no longer work")
        }
        Ok(ViewOutcome::NoSuchSession) => error_frame(at, "SESSION_NOT_FOUND", "no such session"),
        Ok(ViewOutcome::NotConnected) => {
            error_frame(at, "NOT_CONNECTED", "this connection is closing")
        }
        Err(err) => {
            tracing::warn!(error = %err, connection, "view not stored");
            error_frame(at, "UNAVAILABLE", "not stored: send it again")
        }
    }
}

/// Client frames a connection may send per [`FLOOD_WINDOW`]: the protocol needs one ping
/// every 5 minutes, so anything near this is a misbehaving client.
pub const FLOOD_FRAMES: u32 = 10;
pub const FLOOD_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

static FLOOD_GUARD: FloodGuard = FloodGuard::new();

type Windows = std::collections::HashMap<String, (std::time::Instant, u32)>;

/// Counts each connection's frames in this function instance (no write: a flood must not
/// become DynamoDB traffic). API Gateway's stage throttle bounds the total; this answers the
/// flooding connection itself with `RATE_LIMITED` instead of a pong.
pub struct FloodGuard {
    windows: std::sync::Mutex<Option<Windows>>,
}

impl FloodGuard {
    pub const fn new() -> Self {
        Self {
            windows: std::sync::Mutex::new(None),
        }
    }

    pub fn allow(&self, connection: &str, now: std::time::Instant) -> bool {
        let mut guard = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let windows = guard.get_or_insert_with(Default::default);
        // Bounded memory: windows that have ended are forgotten once there are many.
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < FLOOD_WINDOW);
        }
        let window = windows.entry(connection.to_owned()).or_insert((now, 0));
        if now.duration_since(window.0) >= FLOOD_WINDOW {
            *window = (now, 0);
        }
        window.1 += 1;
        window.1 <= FLOOD_FRAMES
    }
}

impl Default for FloodGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// What a client may send.
enum ClientFrame {
    /// `t` as sent (null when it is not a number).
    Ping(Value),
    View(Option<SessionId>),
}

fn read_frame(body: &str, allowed: bool) -> Result<ClientFrame, (&'static str, &'static str)> {
    if !allowed {
        return Err((
            "RATE_LIMITED",
            "at most 10 frames per 10 s: ping every 5 minutes",
        ));
    }
    if body.len() > MAX_CLIENT_FRAME_BYTES {
        return Err(("FRAME_TOO_LARGE", "client frames are at most 1024 bytes"));
    }
    let Ok(Value::Object(frame)) = serde_json::from_str::<Value>(body) else {
        return Err(("BAD_JSON", "a frame is a JSON object"));
    };
    match frame.get("action").and_then(Value::as_str) {
        Some("ping") => Ok(ClientFrame::Ping(
            frame
                .get("t")
                .filter(|t| t.is_number())
                .cloned()
                .unwrap_or(Value::Null),
        )),
        Some("view") => match frame.get("sessionId") {
            None | Some(Value::Null) => Ok(ClientFrame::View(None)),
            Some(Value::String(id)) => SessionId::parse(id)
                .map(|id| ClientFrame::View(Some(id)))
                .ok_or(("BAD_SESSION", "sessionId is not a session id")),
            Some(_) => Err(("BAD_SESSION", "sessionId is a string or null")),
        },
        _ => Err(("UNKNOWN_ACTION", "the actions are ping and view")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_flooding_connection_is_answered_rate_limited_and_others_are_not() {
        let guard = FloodGuard::new();
        let start = Instant::now();
        for _ in 0..FLOOD_FRAMES {
            assert!(guard.allow("flood", start));
        }
        assert!(!guard.allow("flood", start));
        assert!(
            guard.allow("quiet", start),
            "one connection's flood is its own"
        );
        assert!(guard.allow("flood", start + FLOOD_WINDOW + Duration::from_millis(1)));
    }
}
