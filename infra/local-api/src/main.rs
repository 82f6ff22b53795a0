//! `make dev`: the whole system on this machine. Starts the DynamoDB-compatible server (unless
//! `AWS_ENDPOINT_URL_DYNAMODB` names one), creates the table from `template.yaml`, and serves
//! the API on `127.0.0.1:${PORT:-3000}` (the REST API, and the WebSocket API at `ws://…/v1`)
//! until Ctrl-C, which stops everything it started.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::push::PushSender;
use chat_core::sign_in::accounts::AdminAccounts;
use chat_core::{App, Config, SystemClock};
use local_api::{
    registry, DynamoDbServer, Gateway, GatewayListener, StartingPosition, StreamMapping, Template,
};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    chat_core::telemetry::init();
    // The environment is settled before the runtime starts any thread: changing it while
    // other threads may read it is unsound.
    // Local defaults; anything already set (a real profile, another region) wins.
    for (name, value) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("TABLE_NAME", "support-chat-local"),
    ] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
    // A fresh signing secret per run: tokens from an earlier run stop working, as after a
    // rotation on AWS.
    if std::env::var_os("ADMIN_JWT_SECRET").is_none() {
        std::env::set_var("ADMIN_JWT_SECRET", random_text(48));
    }
    let server = match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(endpoint) if !endpoint.is_empty() => {
            tracing::info!(%endpoint, "using the DynamoDB server named by AWS_ENDPOINT_URL_DYNAMODB");
            None
        }
        _ => {
            let server = DynamoDbServer::start()?;
            tracing::info!(
                endpoint = server.endpoint(),
                "started the local DynamoDB server"
            );
            std::env::set_var("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint());
            Some(server)
        }
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(server))
}

async fn serve(server: Option<DynamoDbServer>) -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_default();

    // Bound first: the ticket endpoints answer the WebSocket URL, which names this port.
    let listener = GatewayListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    let template = Template::workspace_default()?;
    let mut config = Config::from_env()?;
    // A PUSH_URL already set wins (e.g. a tunnel in front of this port).
    if config.push_url.is_none() {
        config.push_url = listener.push_url(&template)?;
    }
    let push_url = config.push_url.clone();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = chat_core::app::dynamodb_client(&sdk);
    let created = template.ensure_table(&client, &config.table_name).await?;
    // The stream consumer is a function of its own: its own App, as on Lambda.
    let consumer_app = Arc::new(App::new(
        client.clone(),
        config.clone(),
        Arc::new(SystemClock),
    ));
    let table = config.table_name.clone();
    let idle_timeout = config.idle_timeout;
    let app = App::new(client, config, Arc::new(SystemClock));
    // What the deployed schedule does every minute, on a timer of its own.
    let sweep_every = std::time::Duration::from_secs(
        std::env::var("SWEEP_INTERVAL_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0)
            .unwrap_or(60),
    );
    let sweeper = {
        let chat = app.chat.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(sweep_every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let run = idle_sweep::sweep(&chat);
                if let Err(err) = test_support::iam_calls::serving(idle_sweep::NAME, run).await {
                    tracing::warn!(error = %err, "idle sweep failed");
                }
            }
        })
    };

    // One support agent to sign in with.
    let admin_email =
        std::env::var("LOCAL_ADMIN_EMAIL").unwrap_or_else(|_| "admin@localhost".into());
    let (admin_password, generated) = match std::env::var("LOCAL_ADMIN_PASSWORD") {
        Ok(password) if !password.is_empty() => (password, false),
        _ => (random_text(18), true),
    };
    AdminAccounts::new(app.chat.store(), &SystemClock)
        .ensure(&admin_email, "Local admin", &admin_password)
        .await
        .map_err(|e| format!("cannot set up the local admin {admin_email}: {e}"))?;

    let gateway = Gateway::new(app, &template, &registry::endpoints())?.serve(listener);
    // The table's stream feeds its consumer, as the template's event source mapping does; a
    // table made just now is read from its first record.
    let stream = match StreamMapping::from_template(&template, &registry::endpoints())? {
        Some(mapping) => {
            let mapping = if created {
                mapping.starting_position(StartingPosition::TrimHorizon)
            } else {
                mapping
            };
            let callback_url = gateway.push_callback_url().ok_or(
                "the stream's consumer posts to a WebSocket API, and template.yaml has none",
            )?;
            let sender = PushSender::new(&sdk, &callback_url);
            Some(mapping.start(consumer_app, sender, &endpoint).await?)
        }
        None => None,
    };
    let stage = template.stage_name()?;
    println!(
        "Support chat API: {}/{stage}  (table {table})",
        gateway.url()
    );
    println!(
        "  every route also answers without /{stage}, as behind a custom domain: {}",
        gateway.url()
    );
    for route in template.routes()? {
        println!(
            "  {:<6} {}/{stage}{}",
            route.method,
            gateway.url(),
            route.path
        );
    }
    println!("Dashboard: {}/{stage}/admin", gateway.url());
    if let Some(push_url) = &push_url {
        println!("WebSocket API (push): {push_url}");
    }
    if let Some(callback_url) = gateway.push_callback_url() {
        println!("  its @connections endpoint: {callback_url}/@connections/{{id}}");
    }
    println!(
        "Idle sessions end after {} s (sweep every {} s)",
        idle_timeout.as_secs(),
        sweep_every.as_secs()
    );
    println!("Admin sign-in: {admin_email}");
    if generated {
        println!("Admin password: {admin_password}  (set LOCAL_ADMIN_PASSWORD to choose one)");
    }
    println!("DynamoDB endpoint: {endpoint}");
    println!("Ctrl-C stops everything.");

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    sweeper.abort();
    if let Some(stream) = stream {
        stream.stop().await;
    }
    gateway.stop().await;
    drop(server);
    Ok(())
}

fn random_text(bytes: usize) -> String {
    let random: Vec<u8> = (0..bytes.div_ceil(16))
        .flat_map(|_| chat_core::ids::random_bytes::<16>())
        .take(bytes)
        .collect();
    URL_SAFE_NO_PAD.encode(random)
}
