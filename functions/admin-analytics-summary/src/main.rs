#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::run_lambda(admin_analytics_summary::ENDPOINT).await
}
