#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::run_lambda(client_typing::ENDPOINT).await
}
