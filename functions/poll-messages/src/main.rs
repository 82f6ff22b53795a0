fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::lambda_main(poll_messages::ENDPOINT)
}
