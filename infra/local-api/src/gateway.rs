//! The local API gateway. For each request it does what API Gateway's REST proxy integration
//! does: match a route of `template.yaml`, build the proxy event (path and query parameters,
//! single- and multi-value headers, body, request context), hand it to that function's
//! handler through lambda_http's own event parser, and send back what the handler returned.
//! The template's WebSocket API is served on the same port ([`crate::websocket`]).

pub use crate::error::GatewayError;
use crate::request_parts::{decode, or_null, query_pairs, single_and_multi};
use crate::template::{Route, Template, TemplateError};
use crate::websocket::WebSocketApi;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::Bytes;
use chat_core::http::gateway_error_response;
use chat_core::{App, Endpoint};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// API Gateway's own payload limit.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: the rest of the path.
    Greedy(String),
}

struct CompiledRoute {
    method: Method,
    resource: String,
    segments: Vec<Segment>,
    endpoint: Endpoint,
}

fn split_path(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

impl CompiledRoute {
    fn compile(route: &Route, endpoint: Endpoint) -> Self {
        let segments = split_path(&route.path)
            .into_iter()
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(segment.to_owned()),
                },
            )
            .collect();
        Self {
            method: Method::from_bytes(route.method.as_bytes()).unwrap_or(Method::GET),
            resource: route.path.clone(),
            segments,
            endpoint,
        }
    }

    /// The path parameters, when `path` matches this route's resource.
    fn match_path(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let parts = split_path(path);
        let mut params = BTreeMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(literal) => {
                    if parts.get(i) != Some(&literal.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(i).filter(|p| !p.is_empty())?;
                    params.insert(name.clone(), decode(value));
                }
                Segment::Greedy(name) => {
                    let rest = parts
                        .get(i..)
                        .filter(|r| !r.is_empty() && !r[0].is_empty())?;
                    params.insert(name.clone(), decode(&rest.join("/")));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }
}

pub struct Gateway {
    app: Arc<App>,
    routes: Vec<CompiledRoute>,
    /// The template's stage: every route is served under `/{stage}/...` (the execute-api URL)
    /// and at `/...` (a custom domain mapped to the root), as deployed.
    stage: String,
    websocket: Option<Arc<WebSocketApi>>,
}

/// A request path split the way API Gateway sees it: the part the route matches, and the path
/// as the caller called it (the request context's `path`).
#[derive(Debug, PartialEq, Eq)]
struct CalledPath<'a> {
    route_path: &'a str,
    called: &'a str,
}

fn split_stage<'a>(path: &'a str, stage: &str) -> CalledPath<'a> {
    let route_path = path
        .strip_prefix('/')
        .and_then(|rest| rest.strip_prefix(stage))
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(path);
    CalledPath {
        route_path,
        called: path,
    }
}

/// The gateway's port, bound before the [`App`] exists, so that the configuration can name
/// the URLs it is reached at ([`Self::push_url`]).
pub struct GatewayListener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl GatewayListener {
    pub async fn bind(addr: SocketAddr) -> Result<Self, GatewayError> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(Self { listener, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://{addr}/{stage}`: where clients open the template's WebSocket API
    /// (`Config::push_url`); `None` if the template has none.
    pub fn push_url(&self, template: &Template) -> Result<Option<String>, TemplateError> {
        Ok(template
            .websocket_api()?
            .map(|api| push_url(self.addr, &api.stage)))
    }

    /// `http://{addr}/{stage}`: the WebSocket API's management endpoint
    /// (`PUSH_CALLBACK_URL`, a `PushSender`'s URL); `None` if the template has none.
    pub fn push_callback_url(&self, template: &Template) -> Result<Option<String>, TemplateError> {
        Ok(template
            .websocket_api()?
            .map(|api| push_callback_url(self.addr, &api.stage)))
    }
}

fn push_url(addr: SocketAddr, stage: &str) -> String {
    format!("ws://{addr}/{stage}")
}

fn push_callback_url(addr: SocketAddr, stage: &str) -> String {
    format!("http://{addr}/{stage}")
}

pub struct RunningGateway {
    pub addr: SocketAddr,
    websocket: Option<Arc<WebSocketApi>>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningGateway {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where clients open the WebSocket API: `ws://{addr}/{stage}`.
    pub fn push_url(&self) -> Option<String> {
        self.websocket
            .as_ref()
            .map(|api| push_url(self.addr, api.stage()))
    }

    /// The management endpoint a `PushSender` posts to: `http://{addr}/{stage}`.
    pub fn push_callback_url(&self) -> Option<String> {
        self.websocket
            .as_ref()
            .map(|api| push_callback_url(self.addr, api.stage()))
    }

    /// WebSocket connections open now.
    pub fn open_connections(&self) -> usize {
        self.websocket
            .as_ref()
            .map_or(0, |api| api.open_connections())
    }

    /// Stops accepting, and closes the open WebSocket connections with 1001 "Going away".
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        if let Some(api) = &self.websocket {
            api.close_all();
        }
    }
}

impl Gateway {
    /// Routes every Api event of the template, and every route of its WebSocket API, to the
    /// registered handler of its function.
    pub fn new(
        app: App,
        template: &Template,
        endpoints: &[Endpoint],
    ) -> Result<Self, GatewayError> {
        let app = Arc::new(app);
        let routes = template
            .routes()?
            .into_iter()
            .map(|route| {
                let endpoint = endpoints
                    .iter()
                    .find(|e| e.name == route.function)
                    .copied()
                    .ok_or_else(|| GatewayError::UnknownFunction {
                        route: format!("{} {}", route.method, route.path),
                        function: route.function.clone(),
                    })?;
                Ok(CompiledRoute::compile(&route, endpoint))
            })
            .collect::<Result<Vec<_>, GatewayError>>()?;
        let websocket = match template.websocket_api()? {
            Some(spec) => Some(Arc::new(WebSocketApi::new(
                Arc::clone(&app),
                spec,
                endpoints,
            )?)),
            None => None,
        };
        Ok(Self {
            app,
            routes,
            stage: template.stage_name()?,
            websocket,
        })
    }

    pub async fn bind(self, addr: SocketAddr) -> Result<RunningGateway, GatewayError> {
        Ok(self.serve(GatewayListener::bind(addr).await?))
    }

    /// Serves on a port bound earlier.
    pub fn serve(self, listener: GatewayListener) -> RunningGateway {
        let GatewayListener { listener, addr } = listener;
        let websocket = self.websocket.clone();
        let gateway = Arc::new(self);
        let (shutdown, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(pair) => pair,
                        Err(err) => {
                            tracing::warn!(error = %err, "accept failed");
                            continue;
                        }
                    },
                    _ = stopped.changed() => break,
                };
                let gateway = Arc::clone(&gateway);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let gateway = Arc::clone(&gateway);
                        async move { Ok::<_, Infallible>(gateway.answer(request, peer, addr).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        RunningGateway {
            addr,
            websocket,
            shutdown,
            task,
        }
    }

    async fn answer(
        &self,
        request: hyper::Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let started = std::time::Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let response = self.dispatch(request, peer, local).await;
        tracing::info!(
            %method,
            %path,
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request"
        );
        response
    }

    async fn dispatch(
        &self,
        request: hyper::Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        if let Some(websocket) = &self.websocket {
            if is_websocket_upgrade(request.headers())
                && websocket.serves_upgrade_at(request.uri().path())
            {
                return websocket.connect(request, peer, local).await;
            }
        }
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return self.gateway_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    "Request body is too large",
                )
            }
        };
        if let Some(websocket) = &self.websocket {
            if let Some(connection_id) = websocket.management_target(parts.uri.path()) {
                return websocket.manage(&parts.method, &connection_id, &body);
            }
        }
        let path = split_stage(parts.uri.path(), &self.stage);
        let matched = self
            .routes
            .iter()
            .filter(|route| route.method == parts.method)
            .find_map(|route| {
                route
                    .match_path(path.route_path)
                    .map(|params| (route, params))
            });
        let Some((route, path_params)) = matched else {
            // API Gateway answers an unknown route itself; template.yaml maps that to this.
            return self.gateway_error(StatusCode::NOT_FOUND, "NOT_FOUND", "No such API route");
        };

        let event = proxy_event(&parts, &body, route, path_params, peer, &path, &self.stage);
        let lambda_request = match lambda_http::request::from_str(&event.to_string()) {
            Ok(request) => request,
            Err(err) => {
                tracing::error!(error = %err, "event was not accepted by lambda_http");
                return self.gateway_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "Internal server error",
                );
            }
        };
        // Named, so that the DynamoDB requests it makes are attributed to its function.
        let handler = route.endpoint.serve(&self.app, lambda_request);
        let response = test_support::iam_calls::serving(route.endpoint.name, handler).await;
        to_hyper(response)
    }

    fn gateway_error(
        &self,
        status: StatusCode,
        code: &str,
        message: &str,
    ) -> hyper::Response<Full<Bytes>> {
        to_hyper(gateway_error_response(
            self.app.config(),
            status,
            code,
            message,
            &new_request_id(),
        ))
    }
}

fn is_websocket_upgrade(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The event API Gateway's REST API sends a Lambda proxy integration.
fn proxy_event(
    parts: &http::request::Parts,
    body: &Bytes,
    route: &CompiledRoute,
    path_params: BTreeMap<String, String>,
    peer: SocketAddr,
    path: &CalledPath<'_>,
    stage: &str,
) -> Value {
    let client_headers = parts.headers.iter().map(|(name, value)| {
        (
            name.as_str().to_owned(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        )
    });
    // What API Gateway adds in front of every integration.
    let (headers, multi_headers) = single_and_multi(client_headers.chain([
        ("x-forwarded-for".to_owned(), peer.ip().to_string()),
        ("x-forwarded-proto".to_owned(), "http".to_owned()),
        ("x-forwarded-port".to_owned(), peer.port().to_string()),
    ]));
    let (query, multi_query) = single_and_multi(query_pairs(parts.uri.query()));

    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(BASE64.encode(body)), true),
    };
    let request_id = new_request_id();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    json!({
        "resource": route.resource,
        "path": path.route_path,
        "httpMethod": parts.method.as_str(),
        "headers": or_null(headers),
        "multiValueHeaders": or_null(multi_headers),
        "queryStringParameters": or_null(query),
        "multiValueQueryStringParameters": or_null(multi_query),
        "pathParameters": if path_params.is_empty() { Value::Null } else { json!(path_params) },
        "stageVariables": null,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": route.resource,
            "httpMethod": parts.method.as_str(),
            "path": path.called,
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": now_ms,
            "protocol": "HTTP/1.1",
            "identity": { "sourceIp": peer.ip().to_string(), "userAgent": user_agent },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

/// What API Gateway's `$context.requestId` is: unique per request.
fn new_request_id() -> String {
    chat_core::ids::hex(&chat_core::ids::random_bytes::<16>())
}

fn to_hyper(response: lambda_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> CompiledRoute {
        CompiledRoute::compile(
            &Route {
                method: "GET".into(),
                path: path.into(),
                function: "health".into(),
            },
            health::ENDPOINT,
        )
    }

    #[test]
    fn path_parameters_are_extracted_and_decoded() {
        let poll = route("/api/chat/poll/{sessionId}");
        assert_eq!(
            poll.match_path("/api/chat/poll/chat%5F123").unwrap(),
            BTreeMap::from([("sessionId".to_owned(), "chat_123".to_owned())])
        );
        assert!(poll.match_path("/api/chat/poll/").is_none());
        assert!(poll.match_path("/api/chat/poll/a/b").is_none());
        assert!(poll.match_path("/api/chat/poll").is_none());
    }

    #[test]
    fn the_stage_prefix_is_optional_as_with_a_custom_domain() {
        assert_eq!(
            split_stage("/v1/api/chat/session", "v1"),
            CalledPath {
                route_path: "/api/chat/session",
                called: "/v1/api/chat/session"
            }
        );
        assert_eq!(split_stage("/admin", "v1").route_path, "/admin");
        assert_eq!(split_stage("/v1admin", "v1").route_path, "/v1admin");
        assert_eq!(split_stage("/v1", "v1").route_path, "/v1");
    }

    #[test]
    fn greedy_parameters_take_the_rest_of_the_path() {
        let assets = route("/admin/{asset+}");
        assert_eq!(
            assets.match_path("/admin/js/app.js").unwrap()["asset"],
            "js/app.js"
        );
        assert!(assets.match_path("/admin").is_none());
    }
}
