//! A load generator for the support chat API: N concurrent chats as the shipped mobile app
//! behaves (docs/contract.md §C2, §C3: the 2 s poll and its cursor habit) and support agents as
//! the dashboard behaves (lists every 5 s, the open chat every 2 s with `after`), replying and
//! ending; then ratings. Time can be compressed. It measures every request and checks that each
//! support reply reached its customer exactly once, in order.

pub mod api;
pub mod capacity;
pub mod config;
pub mod delivery;
pub mod plan;
pub mod push;
pub mod report;
pub mod run;
pub mod stats;
pub mod timeline;

pub use config::RunConfig;
pub use report::Report;
pub use run::run;
