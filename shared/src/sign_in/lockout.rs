//! Sign-in under attack: after too many failures for one email, every further attempt for it
//! is refused for a while, whether or not the account exists and whether or not the password
//! is right, so a script cannot keep guessing one agent's password.

use crate::store::sign_in::SignInFailuresItem;
use chrono::{DateTime, Duration, Utc};

/// Failed sign-ins for one email within [`WINDOW_MINUTES`] that lock it.
pub const MAX_FAILURES: u32 = 10;
/// The counting window, and how long a lock lasts after the last failure.
pub const WINDOW_MINUTES: i64 = 15;

pub fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

/// What identifies an email in the table and the logs: the hex SHA-256 of its normalized form
/// (lower case, trimmed), never the address itself.
pub fn email_hash(email: &str) -> String {
    crate::ids::sha256_hex(&email.trim().to_lowercase())
}

/// When the lock on this email ends, if it is locked at `now`.
pub fn locked_until(failures: &SignInFailuresItem, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if failures.failures < MAX_FAILURES {
        return None;
    }
    let until = DateTime::from_timestamp_millis(failures.last_failure_at)? + window();
    (now < until).then_some(until)
}

/// Whole seconds until `until`, at least one: the `Retry-After` value.
pub fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = (until - now).num_milliseconds().max(1);
    (millis as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::items::Entity;

    fn item(failures: u32, last: DateTime<Utc>) -> SignInFailuresItem {
        SignInFailuresItem {
            pk: "LOGIN#x".into(),
            sk: "LOGIN".into(),
            entity: Entity::SignInFailures,
            failures,
            window_start: last.timestamp_millis() - 60_000,
            last_failure_at: last.timestamp_millis(),
            expires_at: 0,
        }
    }

    #[test]
    fn ten_failures_lock_until_fifteen_minutes_after_the_last() {
        // Stored with millisecond precision.
        let last = DateTime::from_timestamp_millis(1_795_000_000_123).unwrap();
        assert_eq!(locked_until(&item(9, last), last), None);
        let until = locked_until(&item(10, last), last).unwrap();
        assert_eq!(until - last, Duration::minutes(15));
        assert_eq!(seconds_until(until, last), 900);
        assert!(locked_until(&item(10, last), last + Duration::seconds(899)).is_some());
        assert_eq!(
            locked_until(&item(10, last), last + Duration::minutes(15)),
            None
        );
    }

    #[test]
    fn email_hashes_are_of_the_normalized_address_and_hide_it() {
        let hash = email_hash(" Ann@Example.com ");
        assert_eq!(hash, email_hash("ann@example.com"));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains("ann"));
    }
}
