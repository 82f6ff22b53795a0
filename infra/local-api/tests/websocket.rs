//! The local WebSocket API against handlers written here, as API Gateway would run them: the
//! events each route gets, what goes back to the client, API Gateway's limits and closes, and
//! the `@connections` management API through the real SDK client.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use chat_core::push::{PostError, PushSender};
use chat_core::{App, Clock, Config, Endpoint, ManualClock};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use local_api::{Gateway, GatewayListener, RunningGateway, Template};
use serde_json::{json, Value};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A REST API with one route (the gateway needs one) and a WebSocket API shaped as
/// template.yaml's `PushApi`, plus a custom route without a route response.
fn template(default_throttle: (f64, u32), connect_throttle: (f64, u32)) -> Template {
    Template::parse(&format!(
        r#"
Parameters:
  PushRateLimit: {{Type: Number, Default: {}}}
  PushBurstLimit: {{Type: Number, Default: {}}}
Resources:
  ChatApi:
    Type: AWS::Serverless::Api
    Properties: {{StageName: v1}}
  HealthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/health
      Events:
        Api: {{Type: Api, Properties: {{RestApiId: !Ref ChatApi, Path: /api/health, Method: GET}}}}
  PushApi:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      StageName: v1
      RouteSelectionExpression: "$request.body.action"
      Routes:
        $connect: {{FunctionArn: !Ref ConnectFunction.Alias}}
        $disconnect: {{FunctionArn: !Ref DisconnectFunction.Alias}}
        $default: {{FunctionArn: !Ref MessageFunction.Alias, RouteResponseSelectionExpression: $default}}
        sendmessage: {{FunctionArn: !GetAtt ActionFunction.Arn}}
      DefaultRouteSettings:
        ThrottlingRateLimit: !Ref PushRateLimit
        ThrottlingBurstLimit: !Ref PushBurstLimit
      RouteSettings:
        $connect: {{ThrottlingRateLimit: {}, ThrottlingBurstLimit: {}}}
  PushDefaultRouteResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {{ApiId: !Ref PushApi, RouteId: !Ref PushApiDefaultRoute, RouteResponseKey: $default}}
  ConnectFunction: {{Type: AWS::Serverless::Function, Properties: {{CodeUri: functions/fake-connect}}}}
  DisconnectFunction: {{Type: AWS::Serverless::Function, Properties: {{CodeUri: functions/fake-disconnect}}}}
  MessageFunction: {{Type: AWS::Serverless::Function, Properties: {{CodeUri: functions/fake-message}}}}
  ActionFunction: {{Type: AWS::Serverless::Function, Properties: {{CodeUri: functions/fake-action}}}}
"#,
        default_throttle.0, default_throttle.1, connect_throttle.0, connect_throttle.1
    ))
    .expect("test template")
}

/// Every event any fake handler got, from every test of this binary; tests pick theirs by
/// connection id.
static EVENTS: Mutex<Vec<ApiGatewayWebsocketProxyRequest>> = Mutex::new(Vec::new());
/// Connection id, and whether a post to it from its own `$connect` was Gone.
static POSTS_DURING_CONNECT: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());

fn record(event: &ApiGatewayWebsocketProxyRequest) {
    EVENTS.lock().unwrap().push(event.clone());
}

fn response(status: i64, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = body.map(Body::Text);
    response
}

/// `?deny=<status>` refuses with that status; `?post_during_connect=1` posts to the
/// connection being opened, through the management API at `domainName`/`stage`.
async fn fake_connect(_: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    record(&event);
    if let Some(status) = event.query_string_parameters.first("deny") {
        return response(status.parse().unwrap(), Some("denied".into()));
    }
    if event
        .query_string_parameters
        .first("post_during_connect")
        .is_some()
    {
        let context = &event.request_context;
        let url = format!(
            "http://{}/{}",
            context.domain_name.as_deref().unwrap(),
            context.stage.as_deref().unwrap()
        );
        let id = context.connection_id.clone().unwrap();
        let posted = PushSender::from_client(management_client(&url))
            .post(&id, "too early")
            .await;
        POSTS_DURING_CONNECT
            .lock()
            .unwrap()
            .push((id, matches!(posted, Err(PostError::Gone))));
    }
    response(200, None)
}

async fn fake_record(_: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    record(&event);
    response(200, None)
}

/// Answers what it got, so the client sees its route and connection.
async fn fake_message(_: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    record(&event);
    let echo = json!({
        "routeKey": event.request_context.route_key,
        "connectionId": event.request_context.connection_id,
        "body": event.body,
    });
    response(200, Some(echo.to_string()))
}

fn endpoints() -> Vec<Endpoint> {
    vec![
        health::ENDPOINT,
        Endpoint::socket("fake-connect", |app, event| {
            Box::pin(fake_connect(app, event))
        }),
        Endpoint::socket("fake-disconnect", |app, event| {
            Box::pin(fake_record(app, event))
        }),
        Endpoint::socket("fake-message", |app, event| {
            Box::pin(fake_message(app, event))
        }),
        Endpoint::socket("fake-action", |app, event| {
            Box::pin(fake_record(app, event))
        }),
    ]
}

fn management_client(callback_url: &str) -> aws_sdk_apigatewaymanagement::Client {
    use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(callback_url)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

struct Stack {
    gateway: RunningGateway,
    clock: ManualClock,
    push_url: String,
}

impl Stack {
    async fn start() -> Self {
        Self::with_throttles((1000.0, 1000), (1000.0, 1000)).await
    }

    /// As `tests/lib.rs` builds the app: the port first, so the config names the push URL.
    async fn with_throttles(default: (f64, u32), connect: (f64, u32)) -> Self {
        let template = template(default, connect);
        let listener = GatewayListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .unwrap();
        let mut config = Config::for_table("unused-by-fake-handlers");
        config.push_url = listener.push_url(&template).unwrap();
        let push_url = config.push_url.clone().expect("a WebSocket API");
        let clock = ManualClock::new(Utc::now());
        // The fake handlers never reach DynamoDB.
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
                .endpoint_url("http://127.0.0.1:9")
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "test", "test", None, None, "tests",
                ))
                .build(),
        );
        let app = App::new(dynamodb, config, Arc::new(clock.clone()));
        let gateway = Gateway::new(app, &template, &endpoints())
            .expect("every route has a handler")
            .serve(listener);
        Self {
            gateway,
            clock,
            push_url,
        }
    }

    fn management(&self) -> aws_sdk_apigatewaymanagement::Client {
        management_client(&self.gateway.push_callback_url().unwrap())
    }

    fn sender(&self) -> PushSender {
        PushSender::from_client(self.management())
    }

    /// Opens a connection tagged `?tag=`, and finds its id from its `$connect` event.
    async fn connect(&self, query: &str) -> (Socket, String) {
        let tag = unique_tag();
        let mut request = format!("{}?tag={tag}{query}", self.push_url)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("user-agent", "websocket-test/1".parse().unwrap());
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connects");
        assert_eq!(response.status(), 101);
        let connect = wait_for_event(|e| {
            e.request_context.route_key.as_deref() == Some("$connect")
                && e.query_string_parameters.first("tag") == Some(tag.as_str())
        })
        .await;
        (socket, connect.request_context.connection_id.unwrap())
    }
}

fn unique_tag() -> String {
    chat_core::ids::hex(&chat_core::ids::random_bytes::<8>())
}

async fn wait_for_event(
    matches: impl Fn(&ApiGatewayWebsocketProxyRequest) -> bool,
) -> ApiGatewayWebsocketProxyRequest {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(event) = EVENTS.lock().unwrap().iter().find(|e| matches(e)) {
            return event.clone();
        }
        assert!(Instant::now() < deadline, "no such event");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn events_of(connection_id: &str) -> Vec<ApiGatewayWebsocketProxyRequest> {
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.request_context.connection_id.as_deref() == Some(connection_id))
        .cloned()
        .collect()
}

async fn disconnect_event(connection_id: &str) -> ApiGatewayWebsocketProxyRequest {
    wait_for_event(|e| {
        e.request_context.connection_id.as_deref() == Some(connection_id)
            && e.request_context.event_type.as_deref() == Some("DISCONNECT")
    })
    .await
}

/// The next frame the server sends (pings and pongs aside).
async fn next_message(socket: &mut Socket) -> Message {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("the connection is open")
            .expect("a frame");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

async fn next_json(socket: &mut Socket) -> Value {
    match next_message(socket).await {
        Message::Text(text) => serde_json::from_str(text.as_str()).expect("JSON"),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

async fn close_code(socket: &mut Socket) -> CloseFrame {
    match next_message(socket).await {
        Message::Close(Some(frame)) => frame,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_connect_answers_the_functions_status_without_upgrading() {
    let stack = Stack::start().await;
    let tag = unique_tag();
    let refused =
        tokio_tungstenite::connect_async(format!("{}?tag={tag}&deny=401", stack.push_url)).await;
    match refused {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected an HTTP 401, got {other:?}"),
    }
    let connect =
        wait_for_event(|e| e.query_string_parameters.first("tag") == Some(tag.as_str())).await;
    let id = connect.request_context.connection_id.unwrap();
    assert_eq!(stack.gateway.open_connections(), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        events_of(&id).len(),
        1,
        "no $disconnect for a connection that never opened"
    );
    let gone = stack
        .management()
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(gone.as_service_error().unwrap().is_gone_exception());
}

#[tokio::test]
async fn every_event_has_api_gateways_shape_and_one_connection_id() {
    let stack = Stack::start().await;
    let connected_at = stack.clock.now().timestamp_millis();
    let (mut socket, id) = stack.connect("&x=1&x=2").await;
    assert_eq!(id.len(), 16);
    assert!(id.ends_with('='), "{id}");
    assert_eq!(stack.gateway.open_connections(), 1);

    let connect = &events_of(&id)[0];
    let context = &connect.request_context;
    assert_eq!(context.route_key.as_deref(), Some("$connect"));
    assert_eq!(context.event_type.as_deref(), Some("CONNECT"));
    assert_eq!(context.message_direction.as_deref(), Some("IN"));
    assert_eq!(context.stage.as_deref(), Some("v1"));
    assert_eq!(context.apiid.as_deref(), Some("local"));
    assert_eq!(
        context.domain_name.as_deref(),
        Some(stack.gateway.addr.to_string().as_str())
    );
    assert_eq!(context.connected_at, connected_at, "on the app's clock");
    assert_eq!(context.request_time_epoch, connected_at);
    assert!(context.request_id.as_deref().is_some_and(|r| r.len() == 16));
    assert_eq!(context.extended_request_id, context.request_id);
    assert_eq!(context.identity.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        context.identity.user_agent.as_deref(),
        Some("websocket-test/1")
    );
    assert_eq!(connect.query_string_parameters.first("x"), Some("2"));
    assert_eq!(
        connect.multi_value_query_string_parameters.all("x"),
        Some(vec!["1", "2"])
    );
    assert!(connect.headers.contains_key("sec-websocket-key"));
    assert_eq!(connect.headers["x-forwarded-for"], "127.0.0.1");
    assert!(
        !connect.headers.contains_key("upgrade"),
        "hop-by-hop headers stay with API Gateway"
    );
    assert!(!connect.is_base64_encoded);
    assert_eq!(connect.body, None);

    socket.send(Message::text("hello")).await.unwrap();
    let echo = next_json(&mut socket).await;
    assert_eq!(
        echo,
        json!({"routeKey": "$default", "connectionId": id, "body": "hello"}),
        "the $default route response answers the client"
    );
    let message = &events_of(&id)[1];
    let context = &message.request_context;
    assert_eq!(context.event_type.as_deref(), Some("MESSAGE"));
    assert_eq!(context.route_key.as_deref(), Some("$default"));
    assert_eq!(context.message_direction.as_deref(), Some("IN"));
    assert!(context.message_id.is_some());
    assert_ne!(context.request_id, connect.request_context.request_id);
    assert_eq!(context.connected_at, connected_at);
    assert_eq!(message.body.as_deref(), Some("hello"));
    assert!(!message.is_base64_encoded);

    socket
        .close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
    let disconnect = disconnect_event(&id).await;
    let context = &disconnect.request_context;
    assert_eq!(context.route_key.as_deref(), Some("$disconnect"));
    assert_eq!(context.disconnect_status_code, Some(1000));
    assert_eq!(context.disconnect_reason.as_deref(), Some("bye"));
    assert_eq!(context.connected_at, connected_at);
    assert_eq!(stack.gateway.open_connections(), 0);
}

#[tokio::test]
async fn a_close_without_status_is_reported_as_api_gateway_does() {
    let stack = Stack::start().await;
    let (mut socket, id) = stack.connect("").await;
    socket.close(None).await.unwrap();
    let context = disconnect_event(&id).await.request_context;
    assert_eq!(context.disconnect_status_code, Some(1005));
    assert_eq!(
        context.disconnect_reason.as_deref(),
        Some("Client-side close frame status not set")
    );
}

#[tokio::test]
async fn the_body_selects_the_route_else_default() {
    let stack = Stack::start().await;
    let (mut socket, id) = stack.connect("").await;
    // The custom route has no route response: nothing comes back for it, so the next frame
    // is the answer to the message after it.
    socket
        .send(Message::text(r#"{"action": "sendmessage", "text": "hi"}"#))
        .await
        .unwrap();
    for (body, route) in [
        ("not json", "$default"),
        (r#"{"action": "unknown"}"#, "$default"),
        (r#"{"action": "$connect"}"#, "$default"),
        (r#"{"action": "ping", "t": 1}"#, "$default"),
    ] {
        socket.send(Message::text(body)).await.unwrap();
        let echo = next_json(&mut socket).await;
        assert_eq!(echo["routeKey"], route, "{body}");
        assert_eq!(echo["body"], body);
    }
    let routed: Vec<_> = events_of(&id)
        .iter()
        .filter(|e| e.request_context.event_type.as_deref() == Some("MESSAGE"))
        .map(|e| e.request_context.route_key.clone().unwrap())
        .collect();
    assert_eq!(
        routed,
        [
            "sendmessage",
            "$default",
            "$default",
            "$default",
            "$default"
        ]
    );
}

#[tokio::test]
async fn a_frame_over_32_kb_closes_with_1009() {
    let stack = Stack::start().await;
    let (mut socket, id) = stack.connect("").await;
    let under = "a".repeat(16 << 10);
    socket.send(Message::text(under.clone())).await.unwrap();
    assert_eq!(next_json(&mut socket).await["body"], under);

    socket
        .send(Message::text("a".repeat(33 << 10)))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await.code, CloseCode::Size);
    assert_eq!(
        disconnect_event(&id)
            .await
            .request_context
            .disconnect_status_code,
        Some(1009)
    );
    assert_eq!(stack.gateway.open_connections(), 0);
}

#[tokio::test]
async fn a_message_over_128_kb_closes_with_1009_though_each_frame_fits() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let stack = Stack::start().await;
    let (mut socket, id) = stack.connect("").await;
    let fragment = "a".repeat(30 << 10);
    let mut opcode = OpCode::Data(Data::Text);
    for last in [false, false, false, false, true] {
        let frame = Frame::message(fragment.clone(), opcode, last);
        // The server may close before the last fragments are written.
        if socket.send(Message::Frame(frame)).await.is_err() {
            break;
        }
        opcode = OpCode::Data(Data::Continue);
    }
    assert_eq!(close_code(&mut socket).await.code, CloseCode::Size);
    assert_eq!(
        disconnect_event(&id)
            .await
            .request_context
            .disconnect_status_code,
        Some(1009)
    );
}

#[tokio::test]
async fn a_binary_frame_closes_with_1003() {
    let stack = Stack::start().await;
    let (mut socket, id) = stack.connect("").await;
    socket
        .send(Message::Binary(vec![0, 1, 2].into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await.code, CloseCode::Unsupported);
    assert_eq!(
        disconnect_event(&id)
            .await
            .request_context
            .disconnect_status_code,
        Some(1003)
    );
}

#[tokio::test]
async fn the_connections_api_posts_describes_and_closes_then_is_gone() {
    let stack = Stack::start().await;
    let connected_at = stack.clock.now();
    let (mut socket, id) = stack.connect("").await;
    let sender = stack.sender();

    sender.post(&id, r#"{"type":"pong"}"#).await.unwrap();
    assert_eq!(next_json(&mut socket).await, json!({"type": "pong"}));

    stack.clock.advance(chrono::Duration::seconds(30));
    socket.send(Message::text("activity")).await.unwrap();
    next_json(&mut socket).await;
    let described = stack
        .management()
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.connected_at().unwrap().to_millis().unwrap(),
        connected_at.timestamp_millis()
    );
    assert_eq!(
        described.last_active_at().unwrap().to_millis().unwrap(),
        (connected_at + chrono::Duration::seconds(30)).timestamp_millis(),
        "the last message"
    );
    let identity = described.identity().unwrap();
    assert_eq!(identity.source_ip(), Some("127.0.0.1"));
    assert_eq!(identity.user_agent(), Some("websocket-test/1"));

    sender.close(&id).await.unwrap();
    assert_eq!(close_code(&mut socket).await.code, CloseCode::Normal);
    assert_eq!(
        disconnect_event(&id)
            .await
            .request_context
            .disconnect_status_code,
        Some(1000)
    );

    assert!(matches!(
        sender.post(&id, "after the close").await,
        Err(PostError::Gone)
    ));
    let gone = stack
        .management()
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("after the close"))
        .send()
        .await
        .unwrap_err();
    assert!(gone.as_service_error().unwrap().is_gone_exception());
    let never = stack
        .management()
        .post_to_connection()
        .connection_id("AAAAAAAAAAAAAAA=")
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap_err();
    assert!(never.as_service_error().unwrap().is_gone_exception());
    sender
        .close(&id)
        .await
        .expect("closing a gone connection is done already");
}

#[tokio::test]
async fn a_post_while_connect_runs_is_gone() {
    let stack = Stack::start().await;
    let (mut socket, id) = stack.connect("&post_during_connect=1").await;
    let posted = POSTS_DURING_CONNECT
        .lock()
        .unwrap()
        .iter()
        .find(|(connection, _)| *connection == id)
        .map(|(_, gone)| *gone);
    assert_eq!(posted, Some(true));
    socket.send(Message::text("open now")).await.unwrap();
    assert_eq!(next_json(&mut socket).await["body"], "open now");
}

#[tokio::test]
async fn ten_idle_minutes_close_with_1001() {
    let stack = Stack::start().await;
    let (mut socket, id) = stack.connect("").await;
    stack.clock.advance(chrono::Duration::minutes(9));
    // A server post is activity too.
    stack.sender().post(&id, "keep-alive").await.unwrap();
    assert_eq!(next_message(&mut socket).await, Message::text("keep-alive"));
    stack.clock.advance(chrono::Duration::minutes(9));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stack.gateway.open_connections(),
        1,
        "9 idle minutes are fine"
    );

    stack
        .clock
        .advance(chrono::Duration::minutes(1) + chrono::Duration::seconds(1));
    let frame = close_code(&mut socket).await;
    assert_eq!(frame.code, CloseCode::Away);
    assert_eq!(frame.reason.as_str(), "Going away");
    let context = disconnect_event(&id).await.request_context;
    assert_eq!(context.disconnect_status_code, Some(1001));
    assert_eq!(context.disconnect_reason.as_deref(), Some("Going away"));
}

#[tokio::test]
async fn two_hours_close_an_active_connection_with_1001() {
    let stack = Stack::start().await;
    let (mut socket, _) = stack.connect("").await;
    for _ in 0..13 {
        stack.clock.advance(chrono::Duration::minutes(9));
        socket.send(Message::text("ping")).await.unwrap();
        assert_eq!(next_json(&mut socket).await["body"], "ping");
    }
    // 117 minutes, the last message just now.
    stack.clock.advance(chrono::Duration::minutes(4));
    assert_eq!(close_code(&mut socket).await.code, CloseCode::Away);
}

#[tokio::test]
async fn each_route_is_throttled_as_its_settings_say() {
    let stack = Stack::with_throttles((0.001, 2), (0.001, 1)).await;
    let (mut socket, id) = stack.connect("").await;
    let second = tokio_tungstenite::connect_async(stack.push_url.as_str()).await;
    match second {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("expected a throttled connect, got {other:?}"),
    }

    for _ in 0..2 {
        socket
            .send(Message::text("within the burst"))
            .await
            .unwrap();
        assert_eq!(next_json(&mut socket).await["routeKey"], "$default");
    }
    socket.send(Message::text("one too many")).await.unwrap();
    let throttled = next_json(&mut socket).await;
    assert_eq!(throttled["message"], "Too Many Requests");
    assert_eq!(throttled["connectionId"], id.as_str());
    assert!(throttled["requestId"].is_string());
    let messages = events_of(&id)
        .iter()
        .filter(|e| e.request_context.event_type.as_deref() == Some("MESSAGE"))
        .count();
    assert_eq!(messages, 2, "a throttled message reaches no function");
}

#[tokio::test]
async fn served_at_the_stage_and_at_the_root_on_the_rest_apis_port() {
    let stack = Stack::start().await;
    let addr = stack.gateway.addr;
    assert_eq!(stack.push_url, format!("ws://{addr}/v1"));
    assert_eq!(stack.gateway.push_url().unwrap(), stack.push_url);
    assert_eq!(
        stack.gateway.push_callback_url().unwrap(),
        format!("http://{addr}/v1")
    );

    let (mut root, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .expect("as behind a custom domain");
    root.send(Message::text("at the root")).await.unwrap();
    assert_eq!(next_json(&mut root).await["body"], "at the root");

    match tokio_tungstenite::connect_async(format!("ws://{addr}/v2")).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 404),
        other => panic!("expected no WebSocket API at /v2, got {other:?}"),
    }

    let (mut open, id) = stack.connect("").await;
    stack.gateway.stop().await;
    assert_eq!(close_code(&mut open).await.code, CloseCode::Away);
    assert_eq!(
        disconnect_event(&id)
            .await
            .request_context
            .disconnect_status_code,
        Some(1001)
    );
}
