//! `loadgen`: N concurrent chats against the API, then a one-screen summary. Exits 1 when a
//! reply was lost or duplicated, or any request got a 5xx or no answer; 2 on bad settings.

use clap::Parser;
use loadgen::plan::parse_duration;
use loadgen::push::PushMode;
use loadgen::{run, RunConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Simulates concurrent support chats (the shipped app and the dashboard) against the API"
)]
struct Args {
    /// Concurrent chats (one customer each).
    #[arg(long, default_value_t = 200)]
    chats: usize,
    /// How long the run lasts on the wall clock (120s, 2m, ...). Chats left open then are ended.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    duration: Duration,
    /// The API's root: http://127.0.0.1:3000, or a stage URL such as https://ID.execute-api.REGION.amazonaws.com/v1
    #[arg(long)]
    base_url: String,
    /// A support agent's email; without it, no agents answer (customers only).
    #[arg(long, requires = "agent_password")]
    agent_email: Option<String>,
    #[arg(long, requires = "agent_email")]
    agent_password: Option<String>,
    /// Dashboards signed in with that account (default: one per 4 chats).
    #[arg(long)]
    agents: Option<usize>,
    /// Chat time runs this many times faster than the wall clock (polls, thinking, typing).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Seed for the chats' scripts (same seed, same scripts).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Writes the report as JSON (read by infra/cost/cost_model.py).
    #[arg(long)]
    report_json: Option<PathBuf>,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
    /// The local DynamoDB server (`make dev` prints it): DynamoDB units per chat are measured
    /// from its capacity totals. A deployed stack has none (the summary says where to look).
    #[arg(long)]
    dynamodb_url: Option<String>,
    /// Agents use the push channel (docs/asyncapi.yaml) as the future dashboard will: one
    /// ticket and WebSocket each; lists patched from `lists.changed` hints, the open chat from
    /// `message.created` frames; no list or open-chat timer.
    #[arg(long)]
    push_agents: bool,
    /// Customers are a new app version on the push channel: a ticket (X-Chat-Token) and a
    /// WebSocket each, one catch-up poll per (re)connect, replies from frames; no poll timer
    /// (polling as the shipped app only when the socket cannot connect).
    #[arg(long)]
    push_customers: bool,
    /// Closes every push socket this often (chat time) and reconnects with a fresh ticket and a
    /// catch-up read, to prove nothing is lost or repeated across reconnects.
    #[arg(long, value_parser = parse_duration)]
    push_reconnect_every: Option<Duration>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = RunConfig {
        base_url: args.base_url,
        chats: args.chats,
        agents: args.agents.unwrap_or(args.chats.div_ceil(4)),
        duration: args.duration,
        time_scale: args.time_scale,
        agent_login: args.agent_email.zip(args.agent_password),
        seed: args.seed,
        request_timeout: args.request_timeout,
        progress: !args.quiet,
        dynamodb_url: args.dynamodb_url,
        push: PushMode {
            agents: args.push_agents,
            customers: args.push_customers,
            reconnect_every: args.push_reconnect_every,
        },
    };
    let report = match run(config).await {
        Ok(report) => report,
        Err(err) => {
            eprintln!("loadgen: {err}");
            return ExitCode::from(2);
        }
    };
    print!("{}", report.render());
    if let Some(path) = args.report_json {
        let json = serde_json::to_string_pretty(&report).expect("the report serializes");
        if let Err(err) = std::fs::write(&path, json + "\n") {
            eprintln!("loadgen: cannot write {}: {err}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
