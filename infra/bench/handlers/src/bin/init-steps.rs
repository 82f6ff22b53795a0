//! A function's init, step by step, timed: what `chat_core::endpoint::run_lambda` does before
//! the first invocation, each step on its own clock, then one more read for comparison. One JSON
//! line per run, in microseconds; `infra/bench/init_steps.py` runs it many times and takes
//! medians (the first-use costs only show once per process). `--sdk-default-client`: the SDK
//! finds the root certificates itself, as before `chat_core::tls_roots`.

use chat_core::endpoint::Endpoint;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let mut steps: Vec<(&str, u128)> = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, steps: &mut Vec<(&str, u128)>| {
        steps.push((name, clock.elapsed().as_micros()));
        clock = Instant::now();
    };
    chat_core::telemetry::init();
    lap("tracing subscriber", &mut steps);
    let config = chat_core::Config::from_env()?;
    lap("configuration", &mut steps);
    // As `App::from_env` does; `--sdk-default-client`: as it did before (the SDK looks for the
    // certificates itself).
    if std::env::args().all(|arg| arg != "--sdk-default-client") {
        chat_core::tls_roots::prefer_system_bundle();
    }
    lap("choosing the root bundle", &mut steps);
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    lap("aws-config load", &mut steps);
    let client = chat_core::app::dynamodb_client(&sdk);
    lap("DynamoDB client", &mut steps);
    let app = chat_core::App::new(client, config, std::sync::Arc::new(chat_core::SystemClock));
    lap("App", &mut steps);
    poll_messages::ENDPOINT.warm_up(&app).await;
    lap("warm-up read (first request)", &mut steps);
    Endpoint::warm_up(&poll_messages::ENDPOINT, &app).await;
    lap("second read (for comparison)", &mut steps);
    let certs = rustls_native_certs::load_native_certs().certs.len();
    lap("loading the native root certificates again", &mut steps);
    let fields: Vec<String> = steps
        .iter()
        .map(|(name, micros)| format!("\"{name}\": {micros}"))
        .collect();
    println!(
        "{{{}, \"native root certificates\": {certs}}}",
        fields.join(", ")
    );
    Ok(())
}
