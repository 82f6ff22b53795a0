//! One test binary (one DynamoDB server, one build): the user's story, bad inputs,
//! concurrency, DynamoDB request counts, and the consistency of routes and docs.

mod admin_auth;
mod admin_flow;
mod bad_input;
mod client_flow;
mod concurrency;
mod consistency;
mod faults;
mod request_counts;
mod sign_in_lockout;
