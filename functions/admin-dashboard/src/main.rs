#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::app::run_lambda(admin_dashboard::ENDPOINT).await
}
