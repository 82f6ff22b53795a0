//! Time comes from one place so that tests can control it.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock used in production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(any(test, feature = "manual-clock"))]
pub use manual::ManualClock;

#[cfg(any(test, feature = "manual-clock"))]
mod manual {
    use super::Clock;
    use chrono::{DateTime, Duration, Utc};
    use std::sync::{Arc, Mutex};

    /// A clock that only moves when told to (tests only: the `manual-clock` feature).
    #[derive(Debug, Clone)]
    pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

    impl ManualClock {
        pub fn new(start: DateTime<Utc>) -> Self {
            Self(Arc::new(Mutex::new(start)))
        }

        pub fn advance(&self, by: Duration) {
            *self.0.lock().expect("clock lock") += by;
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().expect("clock lock")
        }
    }
}

/// The wire format for every timestamp: what JavaScript's `toISOString()` produces, so that the
/// mobile client parses it unchanged and strings sort in time order.
pub fn iso8601(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses a timestamp the server wrote itself.
pub fn parse_iso8601(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Serde for a stored or wire time (`#[serde(with = "crate::clock::as_iso8601")]`): written as
/// [`iso8601`], and a value that does not parse refuses the whole item.
pub mod as_iso8601 {
    use super::{iso8601, parse_iso8601};
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&iso8601(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_iso8601(&text)
            .ok_or_else(|| D::Error::custom(format!("not an ISO 8601 time: {text:?}")))
    }

    /// The same for an optional time (`None` is left out or null, as the field says).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            at: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            #[derive(Deserialize)]
            struct Time(#[serde(with = "super")] DateTime<Utc>);
            Ok(Option::<Time>::deserialize(deserializer)?.map(|Time(at)| at))
        }
    }
}

/// `at` at the precision times are stored and sent with (milliseconds), so that a time held in
/// memory equals the one read back.
pub fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn timestamps_look_like_javascript_and_round_trip() {
        let at = parse_iso8601("2026-11-26T14:58:45.123Z").unwrap();
        assert_eq!(iso8601(at), "2026-11-26T14:58:45.123Z");
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new(parse_iso8601("2026-01-01T00:00:00.000Z").unwrap());
        let before = clock.now();
        clock.advance(Duration::seconds(90));
        assert_eq!((clock.now() - before).num_seconds(), 90);
    }
}
