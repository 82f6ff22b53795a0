fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::lambda_main(admin_create_canned_response::ENDPOINT)
}
