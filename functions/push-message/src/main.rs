fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::socket_main(push_message::ENDPOINT)
}
