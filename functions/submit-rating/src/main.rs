fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::lambda_main(submit_rating::ENDPOINT)
}
