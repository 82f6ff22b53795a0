//! The idle sweep: ends every session whose client has not been heard from (no poll, no send)
//! for the idle timeout. Deployed as a scheduled function (every minute); `make dev` runs the
//! same sweep on a timer.

use chat_core::{ChatError, ChatService};

/// The function's name, as its `CodeUri` directory in `template.yaml`.
pub const NAME: &str = "idle-sweep";

/// Sessions ended per round; rounds go on while a round is full, up to [`MAX_ROUNDS`].
const ROUND: usize = 100;
/// Bounds one run (10,000 sessions); the next minute's run takes the rest.
const MAX_ROUNDS: usize = 100;

/// Ends the idle sessions; returns how many it ended.
pub async fn sweep(chat: &ChatService) -> Result<usize, ChatError> {
    let mut total = 0;
    for _ in 0..MAX_ROUNDS {
        let ended = chat.end_idle_sessions(ROUND).await?;
        total += ended;
        if ended < ROUND {
            break;
        }
    }
    if total > 0 {
        tracing::info!(ended = total, "idle sessions ended");
    }
    Ok(total)
}
