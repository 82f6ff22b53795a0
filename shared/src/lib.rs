//! The support-chat core shared by every Lambda function and the local stack.
//!
//! Layers, outermost first:
//! - [`http`]: request parsing and the response envelope (the only place errors become codes);
//! - [`chat`]: the business rules (who may do what to which session);
//! - [`store`]: the single DynamoDB table, with typed items.

pub mod app;
pub mod chat;
pub mod clock;
pub mod config;
pub mod consumed_capacity;
pub mod endpoint;
pub mod http;
pub mod ids;
pub mod model;
pub mod push;
pub mod runtime;
pub mod sign_in;
pub mod store;
pub mod telemetry;
pub mod tls_roots;

pub use app::App;
pub use chat::{ChatError, ChatService};
#[cfg(any(test, feature = "manual-clock"))]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use endpoint::Endpoint;
