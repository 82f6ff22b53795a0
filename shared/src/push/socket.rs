//! The WebSocket API's routes: `$connect` (the ticket decides), `$disconnect`, and `$default`
//! (ping; anything else answered with an error frame). Their answers go back through API
//! Gateway: `$connect`'s status opens or refuses the socket, `$default`'s body is the reply
//! frame (the route has a route response).

use crate::chat::realtime::ConnectRefusal;
use crate::clock::iso8601;
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

/// `$default`: `{"action": "ping", "t": …}` gets `pong`; anything else an `error` frame with
/// the reason. Nothing is stored either way.
pub async fn message(app: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let reply = reply_to(event.body.as_deref().unwrap_or(""), app);
    answer(200, Some(reply.to_string()))
}

fn reply_to(body: &str, app: &App) -> Value {
    let at = iso8601(app.chat.now());
    let error = |code: &str, message: &str| json!({ "type": "error", "at": at, "data": { "code": code, "message": message } });
    if body.len() > MAX_CLIENT_FRAME_BYTES {
        return error("FRAME_TOO_LARGE", "client frames are at most 1024 bytes");
    }
    let Ok(Value::Object(frame)) = serde_json::from_str::<Value>(body) else {
        return error("BAD_JSON", "a frame is a JSON object");
    };
    match frame.get("action").and_then(Value::as_str) {
        Some("ping") => {
            let t = frame
                .get("t")
                .filter(|t| t.is_number())
                .cloned()
                .unwrap_or(Value::Null);
            json!({ "type": "pong", "at": at, "data": { "t": t } })
        }
        _ => error("UNKNOWN_ACTION", "the only action is ping"),
    }
}
