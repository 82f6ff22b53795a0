#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::run_lambda(admin_update_canned_response::ENDPOINT).await
}
