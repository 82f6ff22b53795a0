//! What one load run is told: where the API is, how many chats and agents, how long.

use crate::push::PushMode;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub base_url: String,
    pub chats: usize,
    /// Dashboards; each has one chat open at a time and serves its share of the chats.
    pub agents: usize,
    /// Wall-clock length of the run; the chats' scripts fill `duration x time_scale` of chat time.
    pub duration: Duration,
    pub time_scale: f64,
    pub agent_login: Option<(String, String)>,
    pub seed: u64,
    pub request_timeout: Duration,
    /// Print a progress line on stderr.
    pub progress: bool,
    /// The local DynamoDB server (`make dev`'s), whose capacity totals measure the run.
    pub dynamodb_url: Option<String>,
    /// Who uses the push channel instead of timers (default: nobody, as today).
    pub push: PushMode,
}
