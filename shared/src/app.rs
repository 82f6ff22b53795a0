//! What a function needs, built once per cold start, and how it runs on Lambda.

use crate::admin_auth::{AdminAuth, AdminAuthError};
use crate::chat::ChatService;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::ChatStore;
use lambda_http::{service_fn, Body, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub struct App {
    pub chat: ChatService,
    admin_auth: Option<AdminAuth>,
}

impl App {
    pub fn new(client: aws_sdk_dynamodb::Client, config: Config, clock: Arc<dyn Clock>) -> Self {
        let store = ChatStore::new(client, config.table_name.clone());
        let admin_auth = config.admin_jwt_secret.as_ref().and_then(|secret| {
            let ttl = chrono::Duration::hours(i64::from(config.admin_token_ttl_hours));
            AdminAuth::new(
                secret.expose().as_bytes(),
                ttl,
                store.clone(),
                clock.clone(),
            )
            .ok()
        });
        Self {
            chat: ChatService::new(store, clock, config),
            admin_auth,
        }
    }

    /// Admin login and token checks; refused where no signing secret was configured.
    pub fn admin_auth(&self) -> Result<&AdminAuth, AdminAuthError> {
        self.admin_auth
            .as_ref()
            .ok_or(AdminAuthError::NotConfigured)
    }

    /// Configuration from the environment; the DynamoDB client from the standard AWS chain
    /// (so `AWS_ENDPOINT_URL_DYNAMODB` points it at a local server).
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        Ok(Self::new(client, config, Arc::new(SystemClock)))
    }

    pub fn config(&self) -> &Config {
        self.chat.config()
    }
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;

/// One API endpoint: its function's name (as in `template.yaml`'s `CodeUri`) and its handler.
/// The Lambda binary and the local API gateway serve the same value.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub name: &'static str,
    pub handler: for<'a> fn(&'a App, Request) -> HandlerFuture<'a>,
}

/// The whole `main` of a function binary.
pub async fn run_lambda(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    // Lives for the whole process; leaking it lets every invocation borrow it.
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    tracing::info!(endpoint = endpoint.name, "cold start complete");
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, lambda_http::Error>((endpoint.handler)(app, request).await)
    }))
    .await
}
