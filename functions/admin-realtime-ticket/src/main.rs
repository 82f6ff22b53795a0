fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::lambda_main(admin_realtime_ticket::ENDPOINT)
}
