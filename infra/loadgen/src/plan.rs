//! What each chat will do, decided up front from a seed so that a run can be repeated, and the
//! clock that compresses chat time.

use std::time::Duration;

/// SplitMix64: small, fast, and good enough to spread think times; not for secrets.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high]`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// Uniform in `[low, high)`.
    pub fn fraction(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * (high - low)
    }

    /// A random lowercase base-36 string, as the shipped app's `Math.random().toString(36)` in
    /// its session ids (docs/contract.md §C2).
    pub fn base36(&mut self, len: usize) -> String {
        const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..len)
            .map(|_| DIGITS[(self.next_u64() % 36) as usize] as char)
            .collect()
    }
}

/// Who ends a chat once the customer has had an answer to every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ender {
    /// The customer leaves (`POST /api/chat/session/end`).
    Customer,
    /// The agent ends it (`POST /api/admin/chat/session/end`) and the app sees `sessionEnded`.
    Agent,
}

/// One chat's script, in chat time.
#[derive(Debug, Clone)]
pub struct ChatPlan {
    pub index: usize,
    /// When the customer opens the chat, after the run starts.
    pub start_after: Duration,
    /// How long the customer thinks before each message (one entry per message).
    pub think: Vec<Duration>,
    pub ender: Ender,
    pub rating: u8,
    pub feedback: Option<String>,
}

impl ChatPlan {
    pub fn user_messages(&self) -> usize {
        self.think.len()
    }
}

/// Spreads `chats` chats over `span` of chat time: each starts within the first tenth, writes 2
/// to 4 messages with think times that end its last message by about three quarters of the span
/// (answers and the goodbye fit in the rest). Half the chats end by the customer, half by agents.
pub fn plan_chats(chats: usize, span: Duration, seed: u64) -> Vec<ChatPlan> {
    let mut rng = Rng::new(seed);
    (0..chats)
        .map(|index| {
            let start_after = span.mul_f64(rng.fraction(0.0, 0.1));
            let messages = rng.range(2, 4) as usize;
            // Each message waits for the previous answer first; think times take about half of
            // the remaining time, answers (a few seconds each) the rest.
            let per_message = span.mul_f64(0.6 / (messages as f64 + 1.0));
            let think = (0..messages)
                .map(|_| per_message.mul_f64(rng.fraction(0.5, 1.5)))
                .collect();
            let ender = if rng.range(0, 1) == 0 {
                Ender::Customer
            } else {
                Ender::Agent
            };
            let rating = rng.range(1, 5) as u8;
            let feedback = (rng.range(0, 2) == 0).then(|| format!("Chat {index}: thanks"));
            ChatPlan {
                index,
                start_after,
                think,
                ender,
                rating,
                feedback,
            }
        })
        .collect()
}

/// Chat time to wall time: every wait in a chat is divided by the scale; latencies are not.
#[derive(Debug, Clone, Copy)]
pub struct TimeScale(f64);

impl TimeScale {
    pub fn new(scale: f64) -> Self {
        TimeScale(scale)
    }

    pub fn factor(self) -> f64 {
        self.0
    }

    pub fn wall(self, chat_time: Duration) -> Duration {
        chat_time.div_f64(self.0)
    }

    pub fn chat(self, wall_time: Duration) -> Duration {
        wall_time.mul_f64(self.0)
    }

    pub async fn sleep(self, chat_time: Duration) {
        tokio::time::sleep(self.wall(chat_time)).await;
    }
}

/// `120s`, `2m`, `1500ms`, `90` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text:?} (examples: 120s, 2m, 500ms)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use ms, s, m or h)"
            ))
        }
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("the duration must be positive: {text:?}"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_units() {
        assert_eq!(parse_duration("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn plans_fit_the_span_and_repeat_for_a_seed() {
        let span = Duration::from_secs(600);
        let plans = plan_chats(200, span, 7);
        for plan in &plans {
            assert!((2..=4).contains(&plan.user_messages()));
            assert!(plan.start_after <= span / 10);
            let thinking: Duration = plan.think.iter().sum();
            assert!(plan.start_after + thinking <= span.mul_f64(0.1 + 0.6 * 1.5));
            assert!((1..=5).contains(&plan.rating));
        }
        let agents_end = plans.iter().filter(|p| p.ender == Ender::Agent).count();
        assert!((60..=140).contains(&agents_end), "{agents_end} of 200");
        let again = plan_chats(200, span, 7);
        assert_eq!(
            plans.iter().map(|p| p.think.clone()).collect::<Vec<_>>(),
            again.iter().map(|p| p.think.clone()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn time_scale_divides_waits() {
        let scale = TimeScale::new(10.0);
        assert_eq!(
            scale.wall(Duration::from_secs(2)),
            Duration::from_millis(200)
        );
        assert_eq!(scale.chat(Duration::from_secs(6)), Duration::from_secs(60));
    }
}
