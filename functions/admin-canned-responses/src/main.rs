#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::run_lambda(admin_canned_responses::ENDPOINT).await
}
