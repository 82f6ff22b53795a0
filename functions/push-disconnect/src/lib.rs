//! The push API's `$disconnect` route: forgets the connection (best effort, as API Gateway
//! sends it).

use chat_core::Endpoint;

pub const ENDPOINT: Endpoint = Endpoint::socket("push-disconnect", |app, event| {
    Box::pin(chat_core::push::socket::disconnect(app, event))
});
