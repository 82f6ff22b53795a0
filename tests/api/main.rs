//! One test binary (one DynamoDB server, one build): the user's story, bad inputs,
//! concurrency, DynamoDB request counts, and the consistency of routes and docs.

mod admin_auth;
mod admin_flow;
mod analytics;
mod assignment;
mod bad_input;
mod canned_responses;
mod client_flow;
mod client_rules;
mod concurrency;
mod consistency;
mod cursor_catch_up;
mod faults;
mod idle_sessions;
mod listing;
mod load_model;
mod push_channel;
mod push_viewers;
mod request_counts;
mod secret_rotation;
mod shipped_app;
mod sign_in_lockout;
mod typing_and_read;
