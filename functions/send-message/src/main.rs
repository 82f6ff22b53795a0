fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::lambda_main(send_message::ENDPOINT)
}
