//! The table's stream consumer: each committed change becomes the frames of
//! docs/asyncapi.yaml, posted to the connections that may see them.

use chat_core::Endpoint;

pub const ENDPOINT: Endpoint = Endpoint::stream("push-fanout", |app, sender, event| {
    Box::pin(chat_core::push::fanout::consume(app, sender, event))
});
