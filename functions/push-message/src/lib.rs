//! The push API's `$default` route: `ping` answered with `pong`, anything else with an
//! `error` frame; nothing stored.

use chat_core::Endpoint;

pub const ENDPOINT: Endpoint = Endpoint::socket("push-message", |app, event| {
    Box::pin(chat_core::push::socket::message(app, event))
});
