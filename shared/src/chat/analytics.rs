//! Analytics: what each state change adds to the daily counters (decided here, written by the
//! store in the change's own transaction), and the summary of a range of days read back from
//! them ([`summary`]).
//!
//! A day is the UTC day of the event itself: a session created on Monday and ended on Tuesday
//! counts as created Monday and ended Tuesday; its duration (end minus start) counts on the
//! end's day, a first response on the day of the reply, a rating on the day it was given.

use super::summary::AnalyticsSummary;
use super::{ChatError, ChatService};
use crate::ids::SessionId;
use crate::model::first_response_histogram::first_response_bucket;
use crate::store::items::{EndReason, SessionItem};
use crate::store::keys::stats_shard;
use crate::store::stats::first_response_bucket_attribute;
use crate::store::{StatsCounts, StatsUpdate};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Longest span days a summary may cover (a leap year).
pub const MAX_SUMMARY_DAYS: i64 = 366;

fn millis(span: Duration) -> u64 {
    // Clocks of different instances may disagree by a little: never negative.
    span.num_milliseconds().max(0) as u64
}

/// What an event at `at` in `session` adds: on `at`'s UTC day, on the session's shard.
pub(crate) fn counted(session: &SessionId, at: DateTime<Utc>, counts: StatsCounts) -> StatsUpdate {
    StatsUpdate {
        day: at.date_naive(),
        shard: stats_shard(session),
        counts,
    }
}

pub(crate) fn session_created(guest: bool) -> StatsCounts {
    StatsCounts {
        sessions_created: 1,
        guest_sessions: u64::from(guest),
        ..StatsCounts::default()
    }
}

pub(crate) fn user_message() -> StatsCounts {
    StatsCounts {
        messages_from_users: 1,
        ..StatsCounts::default()
    }
}

/// A support message; `first_response` is the wait since the customer's first message when
/// this reply is the session's first response.
/// A support message sent at `at` is the session's first response when it is the first one
/// after the customer's first message: how long the customer waited for it.
pub(crate) fn first_response(session: &SessionItem, at: DateTime<Utc>) -> Option<Duration> {
    match (session.first_user_message_at, session.first_response_at) {
        (Some(first), None) => Some(at - first),
        _ => None,
    }
}

pub(crate) fn support_message(first_response: Option<Duration>) -> StatsCounts {
    let mut counts = StatsCounts {
        messages_from_support: 1,
        ..StatsCounts::default()
    };
    if let Some(wait) = first_response {
        let wait = millis(wait);
        counts.first_response_count = 1;
        counts.first_response_ms_sum = wait;
        counts.first_response_buckets.insert(
            first_response_bucket_attribute(first_response_bucket(wait)),
            1,
        );
    }
    counts
}

pub(crate) fn session_ended(reason: EndReason, duration: Duration) -> StatsCounts {
    let mut counts = StatsCounts {
        duration_count: 1,
        duration_ms_sum: millis(duration),
        ..StatsCounts::default()
    };
    match reason {
        EndReason::User => counts.ended_by_user = 1,
        EndReason::Admin => counts.ended_by_admin = 1,
        EndReason::Idle => counts.ended_idle = 1,
    }
    counts
}

pub(crate) fn rated(stars: u8) -> StatsCounts {
    let mut counts = StatsCounts {
        rating_count: 1,
        rating_sum: u64::from(stars),
        ..StatsCounts::default()
    };
    match stars {
        1 => counts.rating_1 = 1,
        2 => counts.rating_2 = 1,
        3 => counts.rating_3 = 1,
        4 => counts.rating_4 = 1,
        _ => counts.rating_5 = 1,
    }
    counts
}

/// The UTC days `from` to `to`, inclusive.
pub fn days_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|day| *day <= to).collect()
}

impl ChatService {
    /// The counters of the days `from` to `to` (inclusive, at most [`MAX_SUMMARY_DAYS`]; the
    /// caller validated the range): per day, in total, and as event rows per day and type. Reads
    /// days x shards counter items, nothing else.
    pub async fn analytics_summary(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<AnalyticsSummary, ChatError> {
        let days = days_between(from, to);
        let counts = self.store.read_stats(&days).await?;
        Ok(AnalyticsSummary::new(
            from,
            to,
            days.into_iter().zip(counts),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::first_response_histogram::FIRST_RESPONSE_BUCKET_COUNT;

    #[test]
    fn first_responses_fall_in_the_bucket_of_their_upper_edge() {
        assert_eq!(first_response_bucket(0), 0);
        assert_eq!(first_response_bucket(5_000), 0);
        assert_eq!(first_response_bucket(5_001), 1);
        assert_eq!(first_response_bucket(60_000), 6);
        assert_eq!(first_response_bucket(86_400_000), 22);
        assert_eq!(first_response_bucket(86_400_001), 23);
        assert_eq!(FIRST_RESPONSE_BUCKET_COUNT, 24);
    }

    #[test]
    fn each_event_adds_its_own_counts() {
        let reply = support_message(Some(Duration::seconds(42)));
        assert_eq!(
            (reply.messages_from_support, reply.first_response_count),
            (1, 1)
        );
        assert_eq!(reply.first_response_ms_sum, 42_000);
        assert_eq!(reply.first_response_buckets["fr05"], 1);
        assert_eq!(support_message(None).first_response_count, 0);
        let ended = session_ended(EndReason::Idle, Duration::minutes(3));
        assert_eq!(
            (ended.ended_idle, ended.ended_by_user, ended.duration_ms_sum),
            (1, 0, 180_000)
        );
        let rating = rated(4);
        assert_eq!((rating.rating_4, rating.rating_sum), (1, 4));
        assert_eq!(session_created(true).guest_sessions, 1);
        assert_eq!(session_created(false).guest_sessions, 0);
    }
}
