//! A function's init, step by step, timed: what a function binary does before the first
//! invocation (`chat_core::runtime` then `chat_core::endpoint::run_lambda`), each step on its own
//! clock, then one more read for comparison. One JSON line per run, in microseconds;
//! `infra/bench/init_steps.py` runs it many times and takes medians (the first-use costs only
//! show once per process). `--sdk-default-client`: the SDK finds the root certificates itself,
//! as before `chat_core::tls_roots`.

use chat_core::endpoint::Endpoint;
use std::time::Instant;

/// Each step's time since the one before, in microseconds.
struct Laps {
    clock: Instant,
    steps: Vec<(&'static str, u128)>,
}

impl Laps {
    fn lap(&mut self, name: &'static str) {
        self.steps.push((name, self.clock.elapsed().as_micros()));
        self.clock = Instant::now();
    }
}

fn main() -> Result<(), lambda_http::Error> {
    let mut laps = Laps {
        clock: Instant::now(),
        steps: Vec::new(),
    };
    // As `chat_core::runtime::start_with_system_roots` does, while this is the only thread;
    // `--sdk-default-client`: as it did before (the SDK looks for the certificates itself).
    if std::env::args().all(|arg| arg != "--sdk-default-client") {
        chat_core::tls_roots::prefer_system_bundle();
    }
    laps.lap("choosing the root bundle");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    laps.lap("tokio runtime");
    runtime.block_on(init(laps))
}

async fn init(mut laps: Laps) -> Result<(), lambda_http::Error> {
    chat_core::telemetry::init();
    laps.lap("tracing subscriber");
    let config = chat_core::Config::from_env()?;
    laps.lap("configuration");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    laps.lap("aws-config load");
    let client = chat_core::app::dynamodb_client(&sdk);
    laps.lap("DynamoDB client");
    let app = chat_core::App::new(client, config, std::sync::Arc::new(chat_core::SystemClock));
    laps.lap("App");
    poll_messages::ENDPOINT.warm_up(&app).await;
    laps.lap("warm-up read (first request)");
    Endpoint::warm_up(&poll_messages::ENDPOINT, &app).await;
    laps.lap("second read (for comparison)");
    let certs = rustls_native_certs::load_native_certs().certs.len();
    laps.lap("loading the native root certificates again");
    let fields: Vec<String> = laps
        .steps
        .iter()
        .map(|(name, micros)| format!("\"{name}\": {micros}"))
        .collect();
    println!(
        "{{{}, \"native root certificates\": {certs}}}",
        fields.join(", ")
    );
    Ok(())
}
