//! The analytics summary as the API answers it: per day, in total, and as event rows per day and
//! type, computed from the counters (averages from sums, percentiles from histogram buckets).

use crate::model::first_response_histogram::{
    FIRST_RESPONSE_BUCKET_COUNT, FIRST_RESPONSE_EDGES_SECONDS,
};
use crate::store::stats::first_response_bucket_attribute;
use crate::store::StatsCounts;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsEnded {
    pub by_user: u64,
    pub by_admin: u64,
    pub idle: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ratings {
    pub count: u64,
    pub average: Option<f64>,
    /// Stars ("1" to "5") to how many ratings gave them.
    pub distribution: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstResponse {
    pub count: u64,
    pub average: Option<f64>,
    /// Upper edge of the histogram bucket holding the median (nearest rank).
    pub p50: Option<u64>,
    pub p90: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Durations {
    pub count: u64,
    pub average: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub sessions_created: u64,
    pub guest_sessions: u64,
    pub messages_from_users: u64,
    pub messages_from_support: u64,
    pub sessions_ended: SessionsEnded,
    pub ratings: Ratings,
    pub first_response_seconds: FirstResponse,
    pub duration_seconds: Durations,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayMetrics {
    pub date: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// One event row: how many events of a type happened on a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    pub date: String,
    pub event_type: &'static str,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsSummary {
    pub from: String,
    pub to: String,
    pub totals: Metrics,
    /// Every day of the range, oldest first, days without events as zeros.
    pub days: Vec<DayMetrics>,
    /// The event rows (`SESSION_CREATED`, `MESSAGE_SENT`, `SESSION_ENDED`): one per day and event
    /// type that happened, newest day first.
    pub events: Vec<EventRow>,
}

fn date(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// `sum / count` (milliseconds to seconds when `scale` is 1000), to the millisecond; `None`
/// when nothing was counted.
fn average(sum: u64, count: u64, scale: f64) -> Option<f64> {
    (count > 0).then(|| ((sum as f64 / scale / count as f64) * 1000.0).round() / 1000.0)
}

/// The nearest-rank percentile `q` (0 to 1) of the histogram, as the upper edge of its bucket
/// (the overflow bucket reports its lower edge, a day: "at least").
pub fn bucket_percentile(buckets: &[u64; FIRST_RESPONSE_BUCKET_COUNT], q: f64) -> Option<u64> {
    let count: u64 = buckets.iter().sum();
    if count == 0 {
        return None;
    }
    let rank = ((q * count as f64).ceil() as u64).max(1);
    let mut seen = 0;
    let last_edge = FIRST_RESPONSE_EDGES_SECONDS[FIRST_RESPONSE_EDGES_SECONDS.len() - 1];
    for (index, in_bucket) in buckets.iter().enumerate() {
        seen += in_bucket;
        if seen >= rank {
            return Some(
                FIRST_RESPONSE_EDGES_SECONDS
                    .get(index)
                    .copied()
                    .unwrap_or(last_edge),
            );
        }
    }
    Some(last_edge)
}

impl Metrics {
    pub fn from_counts(counts: &StatsCounts) -> Self {
        let mut buckets = [0; FIRST_RESPONSE_BUCKET_COUNT];
        for (index, bucket) in buckets.iter_mut().enumerate() {
            *bucket = counts
                .first_response_buckets
                .get(&first_response_bucket_attribute(index))
                .copied()
                .unwrap_or(0);
        }
        let stars = [
            counts.rating_1,
            counts.rating_2,
            counts.rating_3,
            counts.rating_4,
            counts.rating_5,
        ];
        Self {
            sessions_created: counts.sessions_created,
            guest_sessions: counts.guest_sessions,
            messages_from_users: counts.messages_from_users,
            messages_from_support: counts.messages_from_support,
            sessions_ended: SessionsEnded {
                by_user: counts.ended_by_user,
                by_admin: counts.ended_by_admin,
                idle: counts.ended_idle,
            },
            ratings: Ratings {
                count: counts.rating_count,
                average: average(counts.rating_sum, counts.rating_count, 1.0),
                distribution: (1..=5)
                    .zip(stars)
                    .map(|(star, n)| (star.to_string(), n))
                    .collect(),
            },
            first_response_seconds: FirstResponse {
                count: counts.first_response_count,
                average: average(
                    counts.first_response_ms_sum,
                    counts.first_response_count,
                    1000.0,
                ),
                p50: bucket_percentile(&buckets, 0.5),
                p90: bucket_percentile(&buckets, 0.9),
            },
            duration_seconds: Durations {
                count: counts.duration_count,
                average: average(counts.duration_ms_sum, counts.duration_count, 1000.0),
            },
        }
    }
}

impl AnalyticsSummary {
    pub fn new(
        from: NaiveDate,
        to: NaiveDate,
        days: impl IntoIterator<Item = (NaiveDate, StatsCounts)>,
    ) -> Self {
        let mut total = StatsCounts::default();
        let mut per_day = Vec::new();
        let mut events = Vec::new();
        for (day, counts) in days {
            total.add(&counts);
            let rows = [
                ("SESSION_CREATED", counts.sessions_created),
                (
                    "MESSAGE_SENT",
                    counts.messages_from_users + counts.messages_from_support,
                ),
                (
                    "SESSION_ENDED",
                    counts.ended_by_user + counts.ended_by_admin + counts.ended_idle,
                ),
            ];
            events.extend(rows.into_iter().filter(|(_, count)| *count > 0).map(
                |(event_type, count)| EventRow {
                    date: date(day),
                    event_type,
                    count,
                },
            ));
            per_day.push(DayMetrics {
                date: date(day),
                metrics: Metrics::from_counts(&counts),
            });
        }
        // Rows newest day first; within a day, in the order above.
        events.sort_by(|a, b| b.date.cmp(&a.date));
        Self {
            from: date(from),
            to: date(to),
            totals: Metrics::from_counts(&total),
            days: per_day,
            events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_the_upper_edge_of_the_nearest_rank_bucket() {
        let mut buckets = [0; FIRST_RESPONSE_BUCKET_COUNT];
        assert_eq!(bucket_percentile(&buckets, 0.5), None);
        buckets[0] = 5; // up to 5 s
        buckets[6] = 4; // 45 to 60 s
        buckets[23] = 1; // over a day
        assert_eq!(bucket_percentile(&buckets, 0.5), Some(5));
        assert_eq!(bucket_percentile(&buckets, 0.6), Some(60));
        assert_eq!(bucket_percentile(&buckets, 0.9), Some(60));
        assert_eq!(bucket_percentile(&buckets, 1.0), Some(86_400));
    }

    #[test]
    fn averages_are_null_without_events_and_rows_only_for_what_happened() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let busy = StatsCounts {
            sessions_created: 2,
            rating_count: 3,
            rating_sum: 13,
            rating_5: 2,
            rating_3: 1,
            ..StatsCounts::default()
        };
        let summary = AnalyticsSummary::new(
            day,
            day.succ_opt().unwrap(),
            [
                (day, busy),
                (day.succ_opt().unwrap(), StatsCounts::default()),
            ],
        );
        assert_eq!(summary.totals.ratings.average, Some(4.333));
        assert_eq!(summary.totals.ratings.distribution["5"], 2);
        assert_eq!(summary.totals.duration_seconds.average, None);
        assert_eq!(summary.days[1].metrics.ratings.average, None);
        assert_eq!(
            summary.events,
            vec![EventRow {
                date: "2026-11-27".into(),
                event_type: "SESSION_CREATED",
                count: 2
            }]
        );
    }
}
