//! The push channel (`docs/asyncapi.yaml`, decision 0009): single-use tickets that open a
//! WebSocket connection, the connections' lifecycle, and the fan-out of the table's stream
//! records to the connections that may see them. Push is a hint: the REST cursor stays the
//! truth (docs/contract.md §C4).

pub mod events;
pub mod fanout;
mod list_hint;
pub mod sender;
pub mod socket;

pub use sender::{PostError, PushSender};
