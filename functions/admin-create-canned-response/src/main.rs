#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::run_lambda(admin_create_canned_response::ENDPOINT).await
}
