//! An endpoint, declared once in its function crate: its name (the `CodeUri` folder in
//! `template.yaml`), what it answers when DynamoDB fails, and its handler. The Lambda binary
//! ([`lambda_main`], [`files_main`]) and the local API gateway serve the same value.
//!
//! `tests/api/consistency.rs` checks every declaration against the template's routes, the
//! crates under `functions/`, the local registry and `docs/openapi.yaml`.

use crate::app::App;
use crate::config::Config;
use crate::http::{respond, ApiError, Failure, Reply};
use lambda_http::{service_fn, Body, Request, Response};
use std::future::Future;
use std::pin::Pin;

pub type ApiFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, ApiError>> + Send + 'a>>;

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

    /// Whether its function talks to DynamoDB (and so opens the connection during init).
    pub fn uses_dynamodb(&self) -> bool {
        matches!(self.handler, Handler::Api { .. })
    }

    /// The JSON endpoint's failure answer (`None` for static files).
    pub fn failure(&self) -> Option<Failure> {
        match self.handler {
            Handler::Api { failure, .. } => Some(failure),
            Handler::Files(_) => None,
        }
    }

    /// Answers one request.
    pub async fn serve(&self, app: &App, request: Request) -> Response<Body> {
        match self.handler {
            Handler::Api { handle, failure } => {
                respond(app.config(), failure, handle(app, request).await)
            }
            Handler::Files(serve) => serve(app.config(), &request),
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
