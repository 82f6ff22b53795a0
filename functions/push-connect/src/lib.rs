//! The push API's `$connect` route: `?ticket=` spends a single-use ticket and stores the
//! connection, or the socket is refused (401 bad ticket, 403 holder no longer allowed).

use chat_core::Endpoint;

pub const ENDPOINT: Endpoint = Endpoint::socket("push-connect", |app, event| {
    Box::pin(chat_core::push::socket::connect(app, event))
});
