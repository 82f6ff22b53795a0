//! A misbehaving DynamoDB for the fault tests: an HTTP proxy in front of the local server that
//! passes requests through, or throttles them the way DynamoDB does, refuses connections, resets
//! them (before or after forwarding), or never answers.
//!
//! It reads each request whole (the SDK always sends `Content-Length`), decides what to do by
//! the current fault and the request's operation (`X-Amz-Target`), and for a pass-through opens
//! one upstream connection per request, closed after the answer: the local server serves one
//! connection at a time, so the proxy must never hold one open.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Everything passes through.
    None,
    /// HTTP 400 `ProvisionedThroughputExceededException`, as DynamoDB answers over capacity.
    ProvisionedThroughputExceeded,
    /// HTTP 400 `ThrottlingException`, as DynamoDB answers when control-plane or account
    /// limits are hit.
    Throttling,
    /// Nothing listens on the port: every connection attempt is refused. (Limited to one
    /// operation, the port must stay open for the others: those requests are reset instead.)
    ConnectionRefused,
    /// The connection is reset as soon as a request arrives; DynamoDB never sees it.
    ConnectionReset,
    /// The request reaches DynamoDB and takes effect, then the connection is reset instead of
    /// the answer: the caller cannot know it succeeded.
    ResetAfterForwarding,
    /// The same, for the first such request only; later ones pass (the SDK's retry gets through).
    ResetOnceAfterForwarding,
    /// The request is held, unanswered, far longer than any client timeout.
    Slow,
    /// The next N transactions that write a daily counter (`STATS#...`) are cancelled with
    /// `TransactionConflict` on it, as DynamoDB cancels one that meets another transaction on
    /// the same item (the local server, one request at a time, never does); then all pass.
    CounterConflicts(u32),
}

#[derive(Debug, Clone, Copy)]
struct Setting {
    fault: Fault,
    /// Only requests for this operation (e.g. `TransactWriteItems`) are faulted.
    only: Option<&'static str>,
}

pub struct FaultProxy {
    address: SocketAddr,
    upstream: String,
    setting: Arc<Mutex<Setting>>,
    accept: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    /// Requests that reached the proxy, by operation.
    seen: Arc<Mutex<Vec<String>>>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let proxy = Self {
            address: listener.local_addr().expect("proxy address"),
            upstream,
            setting: Arc::new(Mutex::new(Setting {
                fault: Fault::None,
                only: None,
            })),
            accept: Mutex::new(None),
            connections: Arc::default(),
            seen: Arc::default(),
        };
        proxy.listen(listener);
        proxy
    }

    /// `http://127.0.0.1:PORT`, for the DynamoDB client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request from now on gets this fault.
    pub async fn set(&self, fault: Fault) {
        self.set_for(fault, None).await;
    }

    /// Only requests for `operation` get this fault; the others pass.
    pub async fn set_for(&self, fault: Fault, operation: Option<&'static str>) {
        *self.setting.lock().expect("setting") = Setting {
            fault,
            only: operation,
        };
        let refusing = fault == Fault::ConnectionRefused && operation.is_none();
        if refusing {
            // Close the port, and the connections the client keeps alive, so that its next
            // request has to connect (and is refused).
            let accept = self.accept.lock().expect("accept").take();
            if let Some(accept) = accept {
                accept.abort();
                let _ = accept.await;
            }
            for connection in self.connections.lock().expect("connections").drain(..) {
                connection.abort();
            }
        } else if self.accept.lock().expect("accept").is_none() {
            let listener = TcpListener::bind(self.address)
                .await
                .expect("re-open the proxy port");
            self.listen(listener);
        }
    }

    /// Operations (`PutItem`, `Query`, ...) of the requests that reached the proxy so far.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("seen").clone()
    }

    fn listen(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let setting = self.setting.clone();
        let connections = self.connections.clone();
        let seen = self.seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let connection = tokio::spawn(serve(
                    client,
                    upstream.clone(),
                    setting.clone(),
                    seen.clone(),
                ));
                connections
                    .lock()
                    .expect("connections")
                    .push(connection.abort_handle());
            }
        });
        *self.accept.lock().expect("accept") = Some(task);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.lock().expect("accept").take() {
            accept.abort();
        }
        for connection in self.connections.lock().expect("connections").drain(..) {
            connection.abort();
        }
    }
}

/// One HTTP message read whole: its bytes as received and what the proxy needs from its head.
struct Message {
    bytes: Vec<u8>,
    target: String,
}

/// Reads one HTTP/1.1 message (head and `Content-Length` body). With `until_eof`, a message
/// without a length runs to the end of the stream (a response from an HTTP/1.0 server).
async fn read_message(
    stream: &mut (impl AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
    until_eof: bool,
) -> Option<Message> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let target = header("x-amz-target")
        .and_then(|t| t.rsplit('.').next().map(str::to_owned))
        .unwrap_or_default();
    match header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        Some(length) => {
            while buffer.len() < head_end + length {
                let mut chunk = [0u8; 8192];
                let read = stream.read(&mut chunk).await.ok()?;
                if read == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..read]);
            }
        }
        None if until_eof => {
            stream.read_to_end(buffer).await.ok()?;
        }
        None => {}
    }
    let total = match header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        Some(length) => head_end + length,
        None => buffer.len(),
    };
    let bytes: Vec<u8> = buffer.drain(..total).collect();
    Some(Message { bytes, target })
}

/// Drops the connection with a TCP reset rather than an orderly close.
fn reset(stream: TcpStream) {
    // Deprecated because a non-zero linger blocks on drop; a zero one resets at once.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

fn throttled(error_type: &str, message: &str) -> Vec<u8> {
    client_error(serde_json::json!({ "__type": error_type, "message": message }).to_string())
}

/// An HTTP 400 answer with DynamoDB's JSON error body.
fn client_error(body: String) -> Vec<u8> {
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n\
         x-amzn-RequestId: fault-proxy\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// DynamoDB's answer to a `TransactWriteItems` request that writes a `STATS#` counter, had
/// another transaction held that counter: cancelled, `TransactionConflict` for the counter and
/// `None` for the others (the reasons also in the message, as DynamoDB words it). `None` when
/// the request writes no counter.
fn conflict_on_counter(request: &[u8]) -> Option<Vec<u8>> {
    let body_at = request.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let body: serde_json::Value = serde_json::from_slice(&request[body_at..]).ok()?;
    let codes: Vec<&str> = body["TransactItems"]
        .as_array()?
        .iter()
        .map(|item| {
            let write = ["Put", "Update", "Delete", "ConditionCheck"]
                .iter()
                .find_map(|kind| item.get(*kind));
            let key = write.and_then(|w| w.get("Key").or_else(|| w.get("Item")));
            let pk = key.and_then(|k| k["PK"]["S"].as_str()).unwrap_or_default();
            if pk.starts_with("STATS#") {
                "TransactionConflict"
            } else {
                "None"
            }
        })
        .collect();
    if !codes.contains(&"TransactionConflict") {
        return None;
    }
    let body = serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
        "CancellationReasons": codes
            .iter()
            .map(|code| match *code {
                "None" => serde_json::json!({ "Code": "None" }),
                code => serde_json::json!({ "Code": code, "Message": "Transaction is ongoing for the item" }),
            })
            .collect::<Vec<_>>(),
    })
    .to_string();
    Some(client_error(body))
}

async fn forward(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut connection = TcpStream::connect(upstream).await.ok()?;
    connection.write_all(request).await.ok()?;
    let mut buffer = Vec::new();
    let response = read_message(&mut connection, &mut buffer, true).await?;
    Some(response.bytes)
}

async fn serve(
    mut client: TcpStream,
    upstream: String,
    shared_setting: Arc<Mutex<Setting>>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    let mut buffer = Vec::new();
    while let Some(request) = read_message(&mut client, &mut buffer, false).await {
        seen.lock().expect("seen").push(request.target.clone());
        let setting = *shared_setting.lock().expect("setting");
        let applies = setting.only.is_none_or(|only| only == request.target);
        let fault = if applies { setting.fault } else { Fault::None };
        let answer = match fault {
            Fault::None => forward(&upstream, &request.bytes).await,
            Fault::ProvisionedThroughputExceeded => Some(throttled(
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            )),
            Fault::Throttling => Some(throttled(
                "com.amazon.coral.availability#ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            )),
            Fault::ConnectionRefused | Fault::ConnectionReset => None,
            Fault::ResetAfterForwarding => {
                let _ = forward(&upstream, &request.bytes).await;
                None
            }
            Fault::ResetOnceAfterForwarding => {
                let _ = forward(&upstream, &request.bytes).await;
                shared_setting.lock().expect("setting").fault = Fault::None;
                None
            }
            Fault::Slow => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                None
            }
            Fault::CounterConflicts(left) => match conflict_on_counter(&request.bytes) {
                Some(answer) => {
                    shared_setting.lock().expect("setting").fault = match left {
                        0 | 1 => Fault::None,
                        more => Fault::CounterConflicts(more - 1),
                    };
                    Some(answer)
                }
                None => forward(&upstream, &request.bytes).await,
            },
        };
        let Some(answer) = answer else {
            reset(client);
            return;
        };
        if client.write_all(&answer).await.is_err() {
            return;
        }
    }
}
