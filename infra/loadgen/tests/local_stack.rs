//! A short correctness run: `make dev`'s binary on a free port with its own DynamoDB server
//! and a known agent, and the `loadgen` binary against it. No timing is asserted; what must hold
//! is that every support reply reached its customer exactly once and nothing answered 5xx.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const AGENT_EMAIL: &str = "load-test@support.example";
const AGENT_PASSWORD: &str = "a local password for the load test";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `local-api` is another package's binary: `cargo test --workspace` builds it (its own
/// integration tests need it) into the same profile directory as this test.
fn local_api_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // <target>/<profile>/deps/<this test>
    let binary = exe
        .ancestors()
        .nth(2)
        .expect("the profile directory")
        .join("local-api");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p local-api` (cargo test --workspace does)",
        binary.display()
    );
    binary
}

/// The stack, stopped (with its DynamoDB server) however the test ends.
struct Stack(Child);

impl Drop for Stack {
    fn drop(&mut self) {
        // SIGTERM: the binary stops the DynamoDB server it started, as on Ctrl-C.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
    }
}

/// The stack and its DynamoDB server's URL (from the banner).
fn start_stack(port: u16) -> (Stack, String) {
    let mut child = Command::new(local_api_binary())
        .env("PORT", port.to_string())
        .env("TABLE_NAME", format!("loadgen-test-{}", std::process::id()))
        .env("LOCAL_ADMIN_EMAIL", AGENT_EMAIL)
        .env("LOCAL_ADMIN_PASSWORD", AGENT_PASSWORD)
        .env("RUST_LOG", "error")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start local-api");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let stack = Stack(child);
    // The banner ends once the API listens.
    let mut dynamodb = None;
    loop {
        let line = lines.next().expect("the banner").expect("stdout");
        if let Some(url) = line.strip_prefix("DynamoDB endpoint: ") {
            dynamodb = Some(url.trim().to_owned());
        }
        if line.starts_with("Ctrl-C stops everything") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (
        stack,
        dynamodb.expect("the banner names the DynamoDB server"),
    )
}

#[test]
fn ten_chats_against_the_local_stack_lose_and_repeat_no_reply() {
    let port = free_port();
    let (_stack, dynamodb) = start_stack(port);
    let report_path =
        std::env::temp_dir().join(format!("loadgen-report-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--chats", "10", "--duration", "15s", "--time-scale", "5"])
        // Under the stage path, as the execute-api URL.
        .args(["--base-url", &format!("http://127.0.0.1:{port}/v1")])
        .args([
            "--agent-email",
            AGENT_EMAIL,
            "--agent-password",
            AGENT_PASSWORD,
        ])
        .args(["--dynamodb-url", &dynamodb])
        .arg("--report-json")
        .arg(&report_path)
        .arg("--quiet")
        .output()
        .expect("run loadgen");
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "loadgen failed ({}):\n{summary}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("the JSON report"))
            .expect("valid JSON");
    let _ = std::fs::remove_file(&report_path);

    let delivery = &report["delivery"];
    assert_eq!(delivery["lost"], 0, "{summary}");
    assert_eq!(delivery["duplicated"], 0, "{summary}");
    assert_eq!(delivery["out_of_order"], 0, "{summary}");
    assert_eq!(report["server_errors"], 0, "{summary}");
    assert_eq!(report["transport_errors"], 0, "{summary}");
    // The check meant something: every chat started, agents answered, and every transcript
    // was read back to compare with what the customers received.
    assert_eq!(report["counts"]["started"], 10, "{summary}");
    assert!(delivery["replies"].as_u64().unwrap() >= 10, "{summary}");
    assert_eq!(delivery["unverified_chats"], 0, "{summary}");
    assert!(report["counts"]["rated"].as_u64().unwrap() > 0, "{summary}");
    // Units measured by the local server: at least the session's start (a transaction of
    // the session and the counter, and their index entries) per chat, and its polls' reads.
    let capacity = &report["capacity"];
    assert!(
        capacity["write_units"].as_f64().unwrap() >= 6.0,
        "{summary}"
    );
    assert!(capacity["read_units"].as_f64().unwrap() >= 1.0, "{summary}");
    assert!(summary.contains("capacity per chat: "), "{summary}");
}
