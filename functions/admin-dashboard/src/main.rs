#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::run_files(admin_dashboard::ENDPOINT).await
}
