//! API Gateway's throttle: a token bucket per route (per method on a REST API), refilled at
//! `ThrottlingRateLimit` tokens a second up to `ThrottlingBurstLimit`, one token per request.
//! Measured in real time, not on the app's clock: it limits how fast requests arrive.

use crate::template::Throttle;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<Refill>,
}

#[derive(Debug)]
struct Refill {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// Full, as a freshly deployed stage's bucket.
    pub fn new(throttle: Throttle) -> Self {
        Self {
            rate: throttle.rate_limit,
            burst: throttle.burst_limit,
            state: Mutex::new(Refill {
                tokens: throttle.burst_limit,
                at: Instant::now(),
            }),
        }
    }

    /// Takes a token if there is one; `false` means the request is throttled (429).
    pub fn try_take(&self) -> bool {
        self.try_take_at(Instant::now())
    }

    fn try_take_at(&self, now: Instant) -> bool {
        let mut state = self.state.lock().expect("token bucket lock");
        let elapsed = now.saturating_duration_since(state.at).as_secs_f64();
        state.tokens = (state.tokens + elapsed * self.rate).min(self.burst);
        state.at = now;
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let bucket = TokenBucket::new(Throttle {
            rate_limit: 2.0,
            burst_limit: 3.0,
        });
        let start = Instant::now();
        assert!((0..3).all(|_| bucket.try_take_at(start)), "the burst");
        assert!(!bucket.try_take_at(start), "then empty");
        let half_a_second = start + Duration::from_millis(500);
        assert!(bucket.try_take_at(half_a_second), "one token per 1/rate s");
        assert!(!bucket.try_take_at(half_a_second));
        let much_later = start + Duration::from_secs(60);
        assert!(
            (0..3).all(|_| bucket.try_take_at(much_later)),
            "refills to the burst"
        );
        assert!(!bucket.try_take_at(much_later), "and no further");
    }
}
