use lambda_runtime::{service_fn, Error, LambdaEvent};

fn main() -> Result<(), Error> {
    chat_core::runtime::start_with_system_roots(sweep_on_every_event())
}

async fn sweep_on_every_event() -> Result<(), Error> {
    chat_core::telemetry::init();
    let app = chat_core::App::from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let ended = idle_sweep::sweep(&app.chat).await?;
            Ok::<_, Error>(serde_json::json!({ "ended": ended }))
        },
    ))
    .await
}
