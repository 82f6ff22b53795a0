//! The support-chat core shared by every Lambda function and the local stack.
//!
//! Layers, outermost first:
//! - [`http`]: request parsing and the response envelope (the only place errors become codes);
//! - [`chat`]: the business rules (who may do what to which session);
//! - [`store`]: the single DynamoDB table, with typed items.

pub mod admin_accounts;
pub mod admin_auth;
pub mod app;
pub mod chat;
pub mod clock;
pub mod config;
pub mod consumed_capacity;
pub mod endpoint;
pub mod http;
pub mod iam_calls;
pub mod ids;
pub mod model;
pub mod request_counter;
pub mod runtime;
pub mod sign_in_limit;
pub mod signing_keys;
pub mod store;
pub mod telemetry;
pub mod tls_roots;

pub use app::App;
pub use chat::{ChatError, ChatService};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use endpoint::Endpoint;
