//! An endpoint, declared once in its function crate: its name (the `CodeUri` folder in
//! `template.yaml`), what it answers when DynamoDB fails, and its handler. The Lambda binary
//! ([`lambda_main`], [`files_main`]) and the local API gateway serve the same value.
//!
//! `tests/api/consistency.rs` checks every declaration against the template's routes, the
//! crates under `functions/`, the local registry and `docs/openapi.yaml`.

use crate::app::App;
use crate::config::Config;
use crate::http::{respond, ApiError, Failure, Reply};
use crate::push::PushSender;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::streams::DynamoDbEventResponse;
use lambda_http::{service_fn, Body, Request, Response};
use std::future::Future;
use std::pin::Pin;

pub type ApiFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, ApiError>> + Send + 'a>>;
/// A WebSocket route's answer: API Gateway's proxy response (its status decides a `$connect`).
pub type SocketFuture<'a> = Pin<Box<dyn Future<Output = ApiGatewayProxyResponse> + Send + 'a>>;
/// A stream consumer's answer: the records to retry, or an error that fails the whole batch.
pub type StreamFuture<'a> =
    Pin<Box<dyn Future<Output = Result<DynamoDbEventResponse, crate::ChatError>> + Send + 'a>>;

#[derive(Clone, Copy)]
pub enum Handler {
    /// A JSON endpoint: its result becomes the envelope ([`respond`]).
    Api {
        handle: for<'a> fn(&'a App, Request) -> ApiFuture<'a>,
        /// What it answers when DynamoDB fails in a way a retry would not fix.
        failure: Failure,
    },
    /// Static files, answered as they are. Needs no DynamoDB: its binary never builds the
    /// client ([`files_main`]), so the SDK is not linked into it.
    Files(fn(&Config, &Request) -> Response<Body>),
    /// A WebSocket API route (`$connect`, `$disconnect`, `$default`): the route event as API
    /// Gateway sends it to a Lambda proxy integration.
    Socket(for<'a> fn(&'a App, ApiGatewayWebsocketProxyRequest) -> SocketFuture<'a>),
    /// A DynamoDB Streams consumer, invoked by its event source mapping with a batch of
    /// records; it posts to WebSocket connections through the [`PushSender`].
    Stream(for<'a> fn(&'a App, &'a PushSender, StreamEvent) -> StreamFuture<'a>),
}

#[derive(Clone, Copy)]
pub struct Endpoint {
    pub name: &'static str,
    pub handler: Handler,
}

impl Endpoint {
    /// A JSON API endpoint; `handle` is usually `|app, request| Box::pin(handle(app, request))`.
    pub const fn api(
        name: &'static str,
        failure: Failure,
        handle: for<'a> fn(&'a App, Request) -> ApiFuture<'a>,
    ) -> Self {
        Self {
            name,
            handler: Handler::Api { handle, failure },
        }
    }

    pub const fn files(name: &'static str, serve: fn(&Config, &Request) -> Response<Body>) -> Self {
        Self {
            name,
            handler: Handler::Files(serve),
        }
    }

    pub const fn socket(
        name: &'static str,
        handle: for<'a> fn(&'a App, ApiGatewayWebsocketProxyRequest) -> SocketFuture<'a>,
    ) -> Self {
        Self {
            name,
            handler: Handler::Socket(handle),
        }
    }

    pub const fn stream(
        name: &'static str,
        consume: for<'a> fn(&'a App, &'a PushSender, StreamEvent) -> StreamFuture<'a>,
    ) -> Self {
        Self {
            name,
            handler: Handler::Stream(consume),
        }
    }

    /// Whether its function talks to DynamoDB (and so opens the connection during init).
    pub fn uses_dynamodb(&self) -> bool {
        !matches!(self.handler, Handler::Files(_))
    }

    /// The JSON endpoint's failure answer (`None` for everything else).
    pub fn failure(&self) -> Option<Failure> {
        match self.handler {
            Handler::Api { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// Answers one HTTP request (REST API endpoints and static files only).
    pub async fn serve(&self, app: &App, request: Request) -> Response<Body> {
        match self.handler {
            Handler::Api { handle, failure } => {
                respond(app.config(), failure, handle(app, request).await)
            }
            Handler::Files(serve) => serve(app.config(), &request),
            Handler::Socket(_) | Handler::Stream(_) => {
                let mut response = Response::new(Body::from("not an HTTP endpoint"));
                *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    }

    /// The function's init after the [`App`] is built: one read of the `HEALTH` item opens the
    /// TLS connection to DynamoDB now instead of in the first request. The local stack runs it
    /// too, so the tests see (and the IAM check allows) this read for every function.
    pub async fn warm_up(&self, app: &App) {
        if !self.uses_dynamodb() {
            return; // static files: nothing to warm up
        }
        if let Err(err) = app.chat.check_health().await {
            tracing::warn!(error = %err, "DynamoDB did not answer the warm-up read");
        }
    }
}

/// The whole `main` of a JSON endpoint's function binary: the root certificates chosen while
/// the process has one thread, then the runtime running `run_lambda`.
pub fn lambda_main(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::runtime::start_with_system_roots(run_lambda(endpoint))
}

/// The whole `main` of a static-files function: the runtime running `run_files` (no AWS
/// client, so no root certificates to choose).
pub fn files_main(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::runtime::start(run_files(endpoint))
}

/// A JSON endpoint's function once the runtime runs. The [`App`] lives in this frame for the
/// whole process, and every invocation borrows it.
async fn run_lambda(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let app = App::from_env().await?;
    endpoint.warm_up(&app).await;
    tracing::info!(endpoint = endpoint.name, "cold start complete");
    let app = &app;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, lambda_http::Error>(endpoint.serve(app, request).await)
    }))
    .await
}

/// The whole `main` of a WebSocket route's function: API Gateway's route events in, proxy
/// responses out (not lambda_http: its request parser is for the REST API's events).
pub fn socket_main(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::runtime::start_with_system_roots(run_socket(endpoint))
}

async fn run_socket(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let Handler::Socket(handle) = endpoint.handler else {
        return Err(format!("{} is not a WebSocket route", endpoint.name).into());
    };
    let app = App::from_env().await?;
    endpoint.warm_up(&app).await;
    tracing::info!(endpoint = endpoint.name, "cold start complete");
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            Ok::<_, lambda_http::Error>(handle(app, event.payload).await)
        },
    ))
    .await
}

/// The whole `main` of a stream consumer: batches of DynamoDB stream records in, the records
/// to retry out; posts go to the WebSocket API named by `PUSH_CALLBACK_URL`.
pub fn stream_main(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::runtime::start_with_system_roots(run_stream(endpoint))
}

async fn run_stream(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let Handler::Stream(consume) = endpoint.handler else {
        return Err(format!("{} is not a stream consumer", endpoint.name).into());
    };
    let app = App::from_env().await?;
    let callback_url = std::env::var("PUSH_CALLBACK_URL")
        .map_err(|_| "PUSH_CALLBACK_URL is not set: the WebSocket API's stage URL")?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sender = PushSender::new(&sdk, &callback_url);
    endpoint.warm_up(&app).await;
    tracing::info!(endpoint = endpoint.name, "cold start complete");
    let (app, sender) = (&app, &sender);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<StreamEvent>| async move {
            consume(app, sender, event.payload)
                .await
                .map_err(lambda_http::Error::from)
        },
    ))
    .await
}

/// A static-files function once the runtime runs: configuration only, no DynamoDB client.
async fn run_files(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let Handler::Files(serve) = endpoint.handler else {
        return Err(format!("{} is not a static-files endpoint", endpoint.name).into());
    };
    let config = Config::from_env()?;
    tracing::info!(endpoint = endpoint.name, "cold start complete");
    let config = &config;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, lambda_http::Error>(serve(config, &request))
    }))
    .await
}
