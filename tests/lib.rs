//! Test support: `spawn_app()` gives each test its own table on the shared local DynamoDB
//! server and its own local API on a free port, with typed helpers for each endpoint.
//! [`fault_proxy`] puts a misbehaving DynamoDB between an API and that server.

pub mod fault_proxy;
pub mod push;

use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use chat_core::config::Secret;
use chat_core::sign_in::accounts::AdminAccounts;
use chat_core::sign_in::signing_keys::SigningKeys;
use chat_core::{App, Clock, Config, SystemClock};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client as HttpClient};
use hyper_util::rt::TokioExecutor;
use local_api::{
    registry, DynamoDbServer, Gateway, GatewayListener, RunningGateway, RunningStreamMapping,
    StartingPosition, StreamMapping, Template,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use test_support::iam_calls::{serving, IamCallRecorder};
use test_support::request_counter::RequestCounter;

/// One DynamoDB-compatible server for the whole test binary (or the one
/// `AWS_ENDPOINT_URL_DYNAMODB` names); each test gets its own table on it.
pub fn dynamodb_endpoint() -> String {
    DynamoDbServer::shared_endpoint()
}

/// Every DynamoDB call a function makes during this test binary's run, as IAM actions, in
/// `<target dir>/iam-calls/` (or `$IAM_CALLS_DIR`): `infra/run-tests.sh` checks them against
/// the functions' policies in template.yaml once all tests ran.
fn iam_call_recorder() -> IamCallRecorder {
    static RECORDER: OnceLock<IamCallRecorder> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test binary path");
            // <target>/<profile>/deps/<binary>
            let dir = std::env::var_os("IAM_CALLS_DIR")
                .map(PathBuf::from)
                .or_else(|| exe.ancestors().nth(3).map(|t| t.join("iam-calls")))
                .expect("a directory for the IAM call record");
            let stem = exe.file_stem().unwrap_or_default().to_string_lossy();
            // The frames the push channel sends go next to them (docs/asyncapi.yaml's check).
            test_support::pushed_frames::record_to(
                dir.with_file_name("push-frames")
                    .join(format!("{stem}-{}.jsonl", std::process::id())),
            );
            IamCallRecorder::writing_to(dir.join(format!("{stem}-{}.json", std::process::id())))
        })
        .clone()
}

/// A DynamoDB client for the local server, counting every request it sends.
pub fn dynamodb_client(counter: &RequestCounter) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(dynamodb_endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .interceptor(counter.clone())
        .interceptor(iam_call_recorder())
        // As every function's client: each request asks for its consumed capacity.
        .interceptor(chat_core::consumed_capacity::ConsumedCapacityLog)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A Secrets Manager client for the local server (moto serves that API too).
pub fn secrets_manager_client() -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .endpoint_url(dynamodb_endpoint())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A name no other test uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", unique_suffix())
}

/// A well-formed client token that belongs to no session (43 URL-safe characters, as issued).
pub const WRONG_TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The admin token signing secret the test apps use (so tests can forge tokens with it).
pub const TEST_JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// A support agent with an account and a signed-in dashboard.
#[derive(Debug, Clone)]
pub struct Agent {
    pub admin_id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

/// What an endpoint answered.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl ApiResponse {
    pub fn data(&self) -> &Value {
        assert_eq!(
            self.body["success"], true,
            "expected success, got {} {}",
            self.status, self.body
        );
        &self.body["data"]
    }

    pub fn error_code(&self) -> &str {
        assert_eq!(
            self.body["success"], false,
            "expected an error envelope, got {}",
            self.body
        );
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// Asserts an error envelope with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.error_code()),
            (status, code),
            "body: {}",
            self.body
        );
        assert!(self.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

/// A session as the mobile client holds it.
#[derive(Debug, Clone)]
pub struct ClientSession {
    pub session_id: String,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub table: String,
    pub chat: chat_core::ChatService,
    /// Uncounted: for the test's own look at the table.
    pub inspector: aws_sdk_dynamodb::Client,
    /// Counts the DynamoDB requests the API makes.
    pub requests: RequestCounter,
    config: Config,
    /// The app's clock (a manual one in tests that let time pass).
    pub clock: Arc<dyn Clock>,
    http: HttpClient<HttpConnector, Full<Bytes>>,
    /// The table's stream feeding the push consumer: only in [`spawn_push_app`]'s apps.
    stream: Option<RunningStreamMapping>,
    gateway: RunningGateway,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed first (e.g. the token requirement off).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_at(Arc::new(SystemClock), configure).await
}

/// Like [`spawn_app_with`], on a clock of the test's choosing (a `ManualClock` to pass time).
pub async fn spawn_app_at(clock: Arc<dyn Clock>, configure: impl FnOnce(&mut Config)) -> TestApp {
    let table = format!("chat-test-{}", unique_suffix());
    let mut config = Config::for_table(&table);
    config.admin_jwt_secret = Some(Secret::new(TEST_JWT_SECRET));
    configure(&mut config);
    let keys = config.admin_jwt_secret.as_ref().map(|secret| {
        SigningKeys::fixed(secret.expose().as_bytes(), clock.clone()).expect("test secret")
    });
    spawn(config, keys, clock).await
}

/// Like [`spawn_app`], with the push channel whole: the table's stream feeds the consumer,
/// which posts to this app's WebSocket API. (Other apps leave the stream unread, so their
/// request counts are the API's alone.)
pub async fn spawn_push_app() -> TestApp {
    spawn_push_app_at(Arc::new(SystemClock), |_| {}).await
}

/// [`spawn_push_app`] on a clock of the test's choosing, with settings changed first.
pub async fn spawn_push_app_at(
    clock: Arc<dyn Clock>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut app = spawn_app_at(clock, |config| {
        // Every hint at once: the gate itself has a test of its own.
        config.list_hint_interval = std::time::Duration::ZERO;
        configure(config);
    })
    .await;
    app.start_stream().await;
    app
}

/// Like [`spawn_app`], with admin tokens signed by `keys` (e.g. read from Secrets Manager).
pub async fn spawn_app_with_signing_keys(keys: SigningKeys) -> TestApp {
    let table = format!("chat-test-{}", unique_suffix());
    spawn(Config::for_table(&table), Some(keys), Arc::new(SystemClock)).await
}

async fn spawn(config: Config, keys: Option<SigningKeys>, clock: Arc<dyn Clock>) -> TestApp {
    spawn_deployed(config, keys, clock, true).await
}

/// An API deployed without the push channel (no `PUSH_URL`): its clients poll.
pub async fn spawn_app_without_push() -> TestApp {
    let table = format!("chat-test-{}", unique_suffix());
    let mut config = Config::for_table(&table);
    config.admin_jwt_secret = Some(Secret::new(TEST_JWT_SECRET));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keys = SigningKeys::fixed(TEST_JWT_SECRET.as_bytes(), clock.clone()).ok();
    spawn_deployed(config, keys, clock, false).await
}

/// A table of its own and the API on it, with or without the push channel's URL.
async fn spawn_deployed(
    config: Config,
    keys: Option<SigningKeys>,
    clock: Arc<dyn Clock>,
    with_push: bool,
) -> TestApp {
    let table = config.table_name.clone();
    let requests = RequestCounter::default();
    let dynamodb = dynamodb_client(&requests);
    let inspector = dynamodb_client(&RequestCounter::default());
    let template = Template::workspace_default().expect("template.yaml");
    template
        .ensure_table(&inspector, &table)
        .await
        .expect("create table");
    warm_up_every_function_once(&config).await;
    serve(
        dynamodb, config, clock, keys, inspector, requests, with_push,
    )
    .await
}

async fn serve(
    dynamodb: aws_sdk_dynamodb::Client,
    config: Config,
    clock: Arc<dyn Clock>,
    keys: Option<SigningKeys>,
    inspector: aws_sdk_dynamodb::Client,
    requests: RequestCounter,
    with_push: bool,
) -> TestApp {
    let template = &Template::workspace_default().expect("template.yaml");
    // Bound first: the ticket endpoints answer with this gateway's WebSocket URL.
    let listener = GatewayListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("bind the local API");
    let mut config = config;
    if with_push {
        config.push_url = listener.push_url(template).expect("template.yaml");
    }
    let app = App::with_signing_keys(dynamodb, config.clone(), clock.clone(), keys);
    let chat = app.chat.clone();
    let gateway = Gateway::new(app, template, &registry::endpoints())
        .expect("every route has a handler")
        .serve(listener);
    TestApp {
        address: gateway.url(),
        table: config.table_name.clone(),
        chat,
        inspector,
        requests,
        config,
        clock,
        http: HttpClient::builder(TokioExecutor::new()).build_http(),
        stream: None,
        gateway,
    }
}

/// Each function's cold-start init (its warm-up read), once per test binary, on an app of its
/// own so that no test's request count sees it.
async fn warm_up_every_function_once(config: &Config) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let app = App::new(
        dynamodb_client(&RequestCounter::default()),
        config.clone(),
        Arc::new(SystemClock),
    );
    for endpoint in registry::endpoints() {
        serving(endpoint.name, endpoint.warm_up(&app)).await;
    }
}

fn unique_suffix() -> String {
    chat_core::ids::hex(&chat_core::ids::random_bytes::<6>())
}

impl TestApp {
    /// Starts the event source mapping of the table's stream: the consumer runs as its own
    /// function (its own App), posting through a management API client whose calls the IAM
    /// check sees.
    async fn start_stream(&mut self) {
        let template = Template::workspace_default().expect("template.yaml");
        let mapping = StreamMapping::from_template(&template, &registry::endpoints())
            .expect("the stream's event source mapping")
            .expect("a stream consumer")
            .starting_position(StartingPosition::TrimHorizon);
        let consumer = Arc::new(App::new(
            dynamodb_client(&RequestCounter::default()),
            self.config.clone(),
            self.clock.clone(),
        ));
        let callback = self
            .gateway
            .push_callback_url()
            .expect("the template's WebSocket API");
        let management = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
            .region(aws_sdk_apigatewaymanagement::config::Region::new(
                "us-east-1",
            ))
            .endpoint_url(callback)
            .credentials_provider(aws_sdk_apigatewaymanagement::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .interceptor(iam_call_recorder())
            .build();
        let sender = chat_core::push::PushSender::from_client(
            aws_sdk_apigatewaymanagement::Client::from_conf(management),
        );
        let running = mapping
            .start(consumer, sender, &dynamodb_endpoint())
            .await
            .expect("start the stream mapping");
        self.stream = Some(running);
    }

    /// Waits until the consumer has dealt with every change written so far (push apps only).
    pub async fn push_settled(&self) {
        if let Some(stream) = &self.stream {
            stream
                .wait_idle(std::time::Duration::from_secs(20))
                .await
                .expect("the stream consumer keeps up");
        }
    }

    /// The stream batches the consumer gave up on (Lambda's on-failure destination).
    pub fn push_failures(&self) -> Vec<local_api::stream::OnFailureRecord> {
        self.stream
            .as_ref()
            .map(RunningStreamMapping::failures)
            .unwrap_or_default()
    }

    /// Polls `done` until it holds, failing the test after `within`.
    pub async fn wait_until<F, Fut>(&self, within: std::time::Duration, done: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + within;
        while !done().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "not so within {within:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// An ops engineer deactivates the agent (as `chat-admin deactivate` does).
    pub async fn deactivate_agent(&self, agent: &Agent) {
        AdminAccounts::new(self.chat.store(), self.clock.as_ref())
            .set_active(&agent.email, false)
            .await
            .expect("deactivate");
    }

    /// A connection item for a socket API Gateway no longer has (its `$disconnect` lost).
    pub async fn store_vanished_connection(&self, session_id: &str, connection_id: &str) {
        use chat_core::store::items::{ConnectionItem, PushHolder};
        let holder = PushHolder::Customer {
            session_id: chat_core::ids::SessionId::parse(session_id).expect("session id"),
        };
        // Opened a minute ago: long past API Gateway's connect, so a 410 means gone.
        let opened = self.chat.now() - chrono::Duration::minutes(1);
        let item = ConnectionItem::new(connection_id, &holder, opened, opened.timestamp() + 7_200);
        for item in [
            serde_dynamo::to_item(&item).expect("item"),
            serde_dynamo::to_item(item.lookup()).expect("item"),
        ] {
            self.inspector
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .expect("put");
        }
    }

    /// What the scheduled idle sweep does once (attributed to its function, as deployed).
    pub async fn run_idle_sweep(&self) -> usize {
        test_support::iam_calls::serving(idle_sweep::NAME, idle_sweep::sweep(&self.chat))
            .await
            .expect("idle sweep")
    }

    /// The number of active sessions the admin list reports, read from the table directly.
    pub async fn total_active(&self) -> u64 {
        self.chat.store().active_count().await.expect("counter")
    }

    /// A second instance of this API (another Lambda container, as it were) on the same table,
    /// reaching DynamoDB at `endpoint` with the production client's timeouts and retries.
    pub async fn twin_through(&self, endpoint: &str) -> TestApp {
        let requests = RequestCounter::default();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .interceptor(requests.clone());
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            chat_core::app::with_dynamodb_limits(config).build(),
        );
        let keys = self.config.admin_jwt_secret.as_ref().map(|secret| {
            SigningKeys::fixed(secret.expose().as_bytes(), self.clock.clone()).expect("secret")
        });
        serve(
            dynamodb,
            self.config.clone(),
            self.clock.clone(),
            keys,
            self.inspector.clone(),
            requests,
            self.config.push_url.is_some(),
        )
        .await
    }

    /// Any request, raw: for bodies no well-behaved client would send.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> ApiResponse {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.address, path))
            .header("content-type", "application/json");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = self
            .http
            .request(builder.body(Full::new(body.into())).expect("request"))
            .await
            .expect("the local API answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{method} {path}: body is not JSON: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        ApiResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> ApiResponse {
        let headers: Vec<(&str, &str)> = token.map(|t| ("x-chat-token", t)).into_iter().collect();
        self.request("POST", path, &headers, body.to_string()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> ApiResponse {
        let headers: Vec<(&str, &str)> = token.map(|t| ("x-chat-token", t)).into_iter().collect();
        self.request("GET", path, &headers, Bytes::new()).await
    }

    pub async fn create_session(&self, body: &Value) -> ApiResponse {
        self.post_json("/api/chat/session", None, body).await
    }

    /// A user opens the chat screen: a session with a server-made id.
    pub async fn start_session(&self, name: &str) -> ClientSession {
        let response = self
            .create_session(&json!({ "userInfo": { "name": name, "isGuest": false } }))
            .await;
        let data = response.data();
        ClientSession {
            session_id: data["sessionId"].as_str().expect("sessionId").to_owned(),
            token: data["clientToken"]
                .as_str()
                .expect("clientToken")
                .to_owned(),
        }
    }

    pub async fn send_message(&self, token: Option<&str>, body: &Value) -> ApiResponse {
        self.post_json("/api/chat/message", token, body).await
    }

    /// The user sends a message; returns its server-assigned id.
    pub async fn user_says(&self, session: &ClientSession, text: &str) -> String {
        let response = self
            .send_message(
                Some(&session.token),
                &json!({ "sessionId": session.session_id, "message": text, "sender": "user" }),
            )
            .await;
        response.data()["messageId"]
            .as_str()
            .expect("messageId")
            .to_owned()
    }

    /// The user's app signals typing (`POST /api/chat/typing`).
    pub async fn user_types(&self, session: &ClientSession) {
        let typed = self
            .post_json(
                "/api/chat/typing",
                Some(&session.token),
                &json!({ "sessionId": session.session_id }),
            )
            .await;
        assert_eq!(typed.status, 200, "{:?}", typed.body);
    }

    /// The agent claims the session (`POST /api/admin/chat/claim`).
    pub async fn claims(&self, agent: &Agent, session_id: &str) {
        let claimed = self
            .admin_post(
                "/api/admin/chat/claim",
                &agent.token,
                &json!({ "sessionId": session_id }),
            )
            .await;
        assert_eq!(claimed.status, 200, "{:?}", claimed.body);
    }

    pub async fn poll(
        &self,
        session_id: &str,
        token: Option<&str>,
        after: Option<&str>,
    ) -> ApiResponse {
        let query = after.map(|a| format!("?after={a}")).unwrap_or_default();
        self.get(&format!("/api/chat/poll/{session_id}{query}"), token)
            .await
    }

    pub async fn rate(&self, token: Option<&str>, body: &Value) -> ApiResponse {
        self.post_json("/api/chat/rating", token, body).await
    }

    pub async fn leave(&self, session: &ClientSession) -> ApiResponse {
        self.post_json(
            "/api/chat/session/end",
            Some(&session.token),
            &json!({ "sessionId": session.session_id }),
        )
        .await
    }

    /// Ops create an agent's account (as `chat-admin create` does); the agent signs in.
    pub async fn sign_up_agent(&self, name: &str) -> Agent {
        let email = format!(
            "{}-{}@support.example",
            name.to_lowercase().replace(' ', "."),
            unique_suffix()
        );
        let password = format!("{name} has a long password");
        let admin = AdminAccounts::new(self.chat.store(), self.clock.as_ref())
            .create(&email, name, &password)
            .await
            .expect("create admin");
        let token = self.login(&email, &password).await.data()["token"]
            .as_str()
            .expect("token")
            .to_owned();
        Agent {
            admin_id: admin.admin_id,
            email,
            password,
            token,
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> ApiResponse {
        self.request(
            "POST",
            "/api/admin/auth/login",
            &[],
            json!({ "email": email, "password": password }).to_string(),
        )
        .await
    }

    pub async fn admin_get(&self, path: &str, token: &str) -> ApiResponse {
        let bearer = format!("Bearer {token}");
        self.request("GET", path, &[("authorization", &bearer)], Bytes::new())
            .await
    }

    pub async fn admin_post(&self, path: &str, token: &str, body: &Value) -> ApiResponse {
        let bearer = format!("Bearer {token}");
        self.request(
            "POST",
            path,
            &[("authorization", &bearer)],
            body.to_string(),
        )
        .await
    }

    /// A support agent replies from the dashboard; returns the message id.
    /// A reply sent with `force`: for stories where several agents write into one session.
    pub async fn agent_replies_anyway(
        &self,
        agent: &Agent,
        session_id: &str,
        text: &str,
    ) -> String {
        let body =
            json!({ "sessionId": session_id, "message": text, "sender": "admin", "force": true });
        let response = self
            .admin_post("/api/admin/chat/message", &agent.token, &body)
            .await;
        response.data()["messageId"]
            .as_str()
            .expect("messageId")
            .to_owned()
    }

    pub async fn agent_replies(&self, agent: &Agent, session_id: &str, text: &str) -> String {
        let response = self
            .admin_post(
                "/api/admin/chat/message",
                &agent.token,
                &json!({ "sessionId": session_id, "message": text, "sender": "admin" }),
            )
            .await;
        response.data()["messageId"]
            .as_str()
            .expect("messageId")
            .to_owned()
    }

    /// The whole stored transcript and the session, read straight from the store.
    pub async fn transcript(&self, session_id: &str) -> chat_core::store::PartitionPage {
        let session = chat_core::ids::SessionId::parse(session_id).expect("session id");
        self.chat
            .store()
            .read_after(&session, None, chat_core::store::MessageFilter::All)
            .await
            .expect("transcript")
    }

    /// Every item in the table, in key order: to prove a refused request stored nothing.
    pub async fn table_contents(&self) -> Vec<Value> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .inspector
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            for item in page.items() {
                items
                    .push(serde_dynamo::from_item::<_, Value>(item.clone()).expect("item as JSON"));
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        items.sort_by_key(|item| (item["PK"].to_string(), item["SK"].to_string()));
        items
    }
}
