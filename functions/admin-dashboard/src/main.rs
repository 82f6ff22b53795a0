fn main() -> Result<(), lambda_http::Error> {
    chat_core::endpoint::files_main(admin_dashboard::ENDPOINT)
}
