fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::stream_main(push_fanout::ENDPOINT)
}
