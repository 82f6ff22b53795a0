//! Test and local-stack instruments, outside `chat-core` so that no function links them:
//! - [`iam_calls`]: which DynamoDB IAM actions each function needs, as observed (the local
//!   gateway serves every handler inside [`iam_calls::serving`]);
//! - [`pushed_frames`]: every frame the push channel sends a client, checked against the
//!   AsyncAPI document;
//! - [`request_counter`]: DynamoDB requests and capacity units, counted per operation (the
//!   request-count targets are checked with it, never with timers).
//!
//! The clock that only moves when told to is `chat_core::ManualClock`, behind `chat-core`'s
//! `manual-clock` feature, because `chat-core`'s own unit tests use it too.

pub mod iam_calls;
pub mod pushed_frames;
pub mod request_counter;
