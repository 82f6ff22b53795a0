//! The HTTP client: one connection pool for every simulated app and dashboard, each request
//! timed and recorded under its endpoint.

use crate::stats::{Endpoint, Outcome, Stats};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{status} {code}")]
    Refused { status: u16, code: String },
    #[error("no answer: {0}")]
    Transport(String),
}

impl CallError {
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Refused { code, .. } => Some(code),
            CallError::Transport(_) => None,
        }
    }
}

/// Setting up the client failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the base URL must start with http:// or https://: {0}")]
    Scheme(String),
    #[error("cannot load the system's root certificates for HTTPS: {0}")]
    RootCertificates(std::io::Error),
}

#[derive(Clone)]
pub struct Api {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    stats: Arc<Stats>,
    timeout: Duration,
}

impl Api {
    /// `base` is the API's root: `http://127.0.0.1:3000`, or a stage URL ending in `/v1`.
    pub fn new(base: &str, stats: Arc<Stats>, timeout: Duration) -> Result<Self, SetupError> {
        let base = base.trim_end_matches('/').to_owned();
        let connector = if base.starts_with("https://") {
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()
                .map_err(SetupError::RootCertificates)?
                .https_or_http()
                .enable_http1()
                .build()
        } else if base.starts_with("http://") {
            // Plain HTTP needs no certificates; an empty store keeps one connector type.
            let tls = rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .build()
        } else {
            return Err(SetupError::Scheme(base));
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Api {
            client,
            base,
            stats,
            timeout,
        })
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Sends one request and returns the envelope's `data` on success. Every call is recorded,
    /// failures by the envelope's `error.code` (or `HTTP <status>` for anything else).
    pub async fn call(
        &self,
        endpoint: Endpoint,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let started = Instant::now();
        let result = tokio::time::timeout(self.timeout, self.send(method, path, headers, body))
            .await
            .unwrap_or_else(|_| Err(CallError::Transport("timeout".into())));
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(CallError::Refused { status, code }) => Outcome::Failed {
                status: *status,
                code: code.clone(),
            },
            Err(CallError::Transport(kind)) => Outcome::Transport(kind.clone()),
        };
        self.stats.record(endpoint, started.elapsed(), &outcome);
        result
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let payload = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|e| CallError::Transport(format!("bad request: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| CallError::Transport(transport_kind(&e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| CallError::Transport(format!("body: {e}")))?
            .to_bytes();
        let envelope: Option<Value> = serde_json::from_slice(&bytes).ok();
        match envelope {
            Some(envelope) if status < 300 && envelope["success"] == true => {
                Ok(envelope.get("data").cloned().unwrap_or(Value::Null))
            }
            Some(envelope) if envelope["error"]["code"].is_string() => Err(CallError::Refused {
                status,
                code: envelope["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            }),
            _ => Err(CallError::Refused {
                status,
                code: format!("HTTP {status}"),
            }),
        }
    }
}

/// A short, countable name for a failed connection (the full error text varies per request).
fn transport_kind(error: &hyper_util::client::legacy::Error) -> String {
    if error.is_connect() {
        "connect".into()
    } else {
        "connection closed".into()
    }
}
