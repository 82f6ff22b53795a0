fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::lambda_main(leave_session::ENDPOINT)
}
