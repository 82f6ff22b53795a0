#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::run_lambda(admin_typing::ENDPOINT).await
}
