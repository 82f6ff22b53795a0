//! Starts the project's DynamoDB-compatible server (`infra/dynamodb_local.py`, moto serving one
//! request at a time) from the project venv that `infra/setup.sh` installs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

pub struct DynamoDbServer {
    child: Child,
    /// Held open: the server exits when it closes, even if this process is killed.
    _stdin: ChildStdin,
    endpoint: String,
}

/// The repository root, from this crate's location.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl DynamoDbServer {
    /// Starts a server on a free loopback port and waits until it accepts requests.
    pub fn start() -> std::io::Result<Self> {
        let root = workspace_root();
        let python = root.join(".venv/bin/python");
        if !python.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} is missing: run `make setup` (infra/setup.sh) first",
                    python.display()
                ),
            ));
        }
        let mut child = Command::new(python)
            .arg(root.join("infra/dynamodb_local.py"))
            .args(["--host", "127.0.0.1", "--port", "0", "--exit-with-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .map(str::to_owned)
            .ok_or_else(|| {
                let _ = child.kill();
                std::io::Error::other(format!("DynamoDB server did not start: {line:?}"))
            })?;
        Ok(Self {
            child,
            _stdin: stdin,
            endpoint,
        })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_DYNAMODB`.
    /// One server for the whole test binary (or the one `AWS_ENDPOINT_URL_DYNAMODB` names):
    /// each test takes a table of its own on it.
    pub fn shared_endpoint() -> String {
        static SERVER: std::sync::OnceLock<Result<DynamoDbServer, String>> =
            std::sync::OnceLock::new();
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
            if !endpoint.is_empty() {
                return endpoint;
            }
        }
        match SERVER.get_or_init(|| Self::start().map_err(|e| e.to_string())) {
            Ok(server) => server.endpoint().to_owned(),
            Err(err) => panic!("cannot start the local DynamoDB server: {err}"),
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for DynamoDbServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
