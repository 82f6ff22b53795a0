//! `make dev` as a developer uses it: the binary starts everything, serves the API on $PORT,
//! honours AWS_ENDPOINT_URL_DYNAMODB, and Ctrl-C stops everything it started.

use local_api::DynamoDbServer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the dev stack and reads its banner up to the DynamoDB endpoint line.
fn start(port: u16, endpoint: Option<&str>) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_local-api"));
    command
        .env("PORT", port.to_string())
        .env("TABLE_NAME", "dev-stack-test")
        // Abandoned chats end fast here: the knobs ARCHITECTURE.md gives for trying the idle sweep.
        .env("IDLE_TIMEOUT_SECONDS", "2")
        .env("SWEEP_INTERVAL_SECONDS", "1")
        .env("LOCAL_ADMIN_EMAIL", "lead@support.example")
        .env("LOCAL_ADMIN_PASSWORD", "a local password for tests")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(endpoint) = endpoint {
        command.env("AWS_ENDPOINT_URL_DYNAMODB", endpoint);
    }
    let mut child = command.spawn().expect("start local-api");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let dynamodb = loop {
        let line = lines.next().expect("banner").expect("stdout");
        if let Some(endpoint) = line.strip_prefix("DynamoDB endpoint: ") {
            break endpoint.to_owned();
        }
    };
    // Keep draining stdout so request logs never block the server.
    std::thread::spawn(move || lines.for_each(drop));
    (child, dynamodb)
}

fn http_request(port: u16, method: &str, path: &str, body: &str) -> String {
    http_request_with(port, method, path, "X-Test: 1", body)
}

fn http_request_with(port: u16, method: &str, path: &str, header: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{header}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn http_get(port: u16, path: &str) -> String {
    http_request(port, "GET", path, "")
}

fn interrupt_and_wait(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "Ctrl-C did not stop the stack");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn accepts_connections(endpoint: &str) -> bool {
    let address = endpoint.trim_start_matches("http://");
    TcpStream::connect(address).is_ok()
}

#[test]
fn make_dev_serves_the_api_and_ctrl_c_stops_everything_it_started() {
    let port = free_port();
    let (mut child, dynamodb) = start(port, None);
    let health = http_get(port, "/api/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"dynamodb\":\"ok\""), "{health}");
    assert!(accepts_connections(&dynamodb));
    let login = http_request(
        port,
        "POST",
        "/api/admin/auth/login",
        r#"{"email":"lead@support.example","password":"a local password for tests"}"#,
    );
    assert!(
        login.starts_with("HTTP/1.1 200"),
        "the seeded admin signs in: {login}"
    );
    // As deployed: the execute-api URL carries the stage, a custom domain does not.
    let staged = http_get(port, "/v1/api/health");
    assert!(staged.starts_with("HTTP/1.1 200"), "{staged}");
    let page = http_get(port, "/v1/admin");
    assert!(
        page.contains(r#"src="/v1/admin/app.js?v="#),
        "the page names its script under the stage: {page}"
    );
    let page = http_get(port, "/admin");
    assert!(
        page.contains(r#"src="/admin/app.js?v="#),
        "and at the root: {page}"
    );
    let elsewhere = http_get(port, "/v2/api/health");
    assert!(elsewhere.starts_with("HTTP/1.1 404"), "{elsewhere}");

    // A chat nobody polls ends by itself (IDLE_TIMEOUT_SECONDS=2, a sweep every second).
    let created = http_request(port, "POST", "/v1/api/chat/session", r#"{"userInfo":{}}"#);
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    let token = login
        .split("\"token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a token in the sign-in answer")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = http_request_with(
            port,
            "GET",
            "/v1/api/admin/chat/active-sessions",
            &format!("Authorization: Bearer {token}"),
            "",
        );
        if list.contains("\"totalActive\":0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the idle chat was not ended: {list}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    interrupt_and_wait(&mut child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while accepts_connections(&dynamodb) {
        assert!(
            Instant::now() < deadline,
            "the DynamoDB server outlived the stack"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn make_dev_uses_the_dynamodb_server_it_is_given_and_leaves_it_running() {
    let server = DynamoDbServer::start().expect("DynamoDB server");
    let port = free_port();
    let (mut child, dynamodb) = start(port, Some(server.endpoint()));
    assert_eq!(dynamodb, server.endpoint());
    let created = http_get(port, "/api/health");
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    interrupt_and_wait(&mut child);
    assert!(accepts_connections(server.endpoint()), "not ours to stop");
}
