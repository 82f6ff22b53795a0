//! Daily analytics counters: one item per UTC day and shard (`STATS#<day>#<shard>`), moved
//! only by `ADD` inside the transaction of the state change it counts (so a count is never
//! lost or doubled: the change and its count commit together or not at all, and `ADD` needs
//! no read), read back by `BatchGetItem`, never by a scan.

use super::items::Entity;
use super::keys::*;
use super::{built, decode, s, ChatStore, Item, StoreError};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Keys one `BatchGetItem` may ask for.
const BATCH_GET_LIMIT: usize = 100;

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// What a counter item counts (and what one state change adds to it). Attributes that are 0
/// are not written, so an item holds only what happened on its day and shard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StatsCounts {
    #[serde(skip_serializing_if = "is_zero")]
    pub sessions_created: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub guest_sessions: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub messages_from_users: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub messages_from_support: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub ended_by_user: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub ended_by_admin: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub ended_idle: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub rating_count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub rating_sum: u64,
    #[serde(rename = "rating1", skip_serializing_if = "is_zero")]
    pub rating_1: u64,
    #[serde(rename = "rating2", skip_serializing_if = "is_zero")]
    pub rating_2: u64,
    #[serde(rename = "rating3", skip_serializing_if = "is_zero")]
    pub rating_3: u64,
    #[serde(rename = "rating4", skip_serializing_if = "is_zero")]
    pub rating_4: u64,
    #[serde(rename = "rating5", skip_serializing_if = "is_zero")]
    pub rating_5: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub first_response_count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub first_response_ms_sum: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub duration_count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub duration_ms_sum: u64,
    /// First responses per histogram bucket, `fr00`, `fr01`, ... (see
    /// [`first_response_bucket_attribute`]): top-level attributes, because `ADD` cannot
    /// reach into a map.
    #[serde(flatten)]
    pub first_response_buckets: BTreeMap<String, u64>,
}

/// The attribute of first-response bucket `index`.
pub fn first_response_bucket_attribute(index: usize) -> String {
    format!("fr{index:02}")
}

impl StatsCounts {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Adds `other` into `self` (the days' shards into one day, the days into a total).
    pub fn add(&mut self, other: &StatsCounts) {
        self.sessions_created += other.sessions_created;
        self.guest_sessions += other.guest_sessions;
        self.messages_from_users += other.messages_from_users;
        self.messages_from_support += other.messages_from_support;
        self.ended_by_user += other.ended_by_user;
        self.ended_by_admin += other.ended_by_admin;
        self.ended_idle += other.ended_idle;
        self.rating_count += other.rating_count;
        self.rating_sum += other.rating_sum;
        self.rating_1 += other.rating_1;
        self.rating_2 += other.rating_2;
        self.rating_3 += other.rating_3;
        self.rating_4 += other.rating_4;
        self.rating_5 += other.rating_5;
        self.first_response_count += other.first_response_count;
        self.first_response_ms_sum += other.first_response_ms_sum;
        self.duration_count += other.duration_count;
        self.duration_ms_sum += other.duration_ms_sum;
        for (bucket, count) in &other.first_response_buckets {
            *self
                .first_response_buckets
                .entry(bucket.clone())
                .or_default() += count;
        }
    }
}

/// A counter item as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: Entity,
    #[serde(flatten)]
    pub counts: StatsCounts,
}

/// What one state change adds to the counters: on the event's own UTC day, on its session's
/// shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsUpdate {
    pub day: NaiveDate,
    pub shard: u8,
    pub counts: StatsCounts,
}

fn stats_key(day: NaiveDate, shard: u8) -> Item {
    HashMap::from([
        ("PK".to_owned(), s(stats_pk(day, shard))),
        ("SK".to_owned(), s(STATS_SK)),
    ])
}

impl ChatStore {
    /// The transaction item that adds `update` to its counter item (created by the first
    /// `ADD`). `ADD` commutes, so concurrent transactions never need to read or retry for it.
    pub(crate) fn add_to_stats(
        &self,
        update: &StatsUpdate,
    ) -> Result<TransactWriteItem, StoreError> {
        let counts = serde_dynamo::to_item::<_, Item>(&update.counts)?;
        let mut builder = Update::builder()
            .table_name(self.table())
            .set_key(Some(stats_key(update.day, update.shard)))
            .expression_attribute_values(
                ":entity",
                serde_dynamo::to_attribute_value(Entity::Stats)?,
            );
        let mut adds = Vec::with_capacity(counts.len());
        for (i, (attribute, amount)) in counts.into_iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            builder = builder
                .expression_attribute_names(format!("#c{i}"), attribute)
                .expression_attribute_values(format!(":c{i}"), amount);
        }
        let expression = if adds.is_empty() {
            "SET entity = :entity".to_owned()
        } else {
            format!("SET entity = :entity ADD {}", adds.join(", "))
        };
        let update = built(builder.update_expression(expression).build())?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The counters of each day, every shard added up, in the order of `days`: one
    /// `BatchGetItem` per 100 keys (days x shards), eventually consistent, never a scan and
    /// never a session or message.
    pub async fn read_stats(&self, days: &[NaiveDate]) -> Result<Vec<StatsCounts>, StoreError> {
        let mut day_of_pk = HashMap::new();
        let mut keys = Vec::with_capacity(days.len() * usize::from(STATS_SHARDS));
        for (index, day) in days.iter().enumerate() {
            for shard in 0..STATS_SHARDS {
                day_of_pk.insert(stats_pk(*day, shard), index);
                keys.push(stats_key(*day, shard));
            }
        }
        let mut totals = vec![StatsCounts::default(); days.len()];
        for chunk in keys.chunks(BATCH_GET_LIMIT) {
            for item in self.batch_get(chunk.to_vec(), false).await? {
                let stored: StatsItem = decode(item)?;
                if let Some(index) = day_of_pk.get(&stored.pk) {
                    totals[*index].add(&stored.counts);
                }
            }
        }
        Ok(totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_item_round_trips_and_writes_only_what_it_counts() {
        let mut counts = StatsCounts {
            sessions_created: 3,
            rating_5: 2,
            first_response_ms_sum: 61_500,
            ..StatsCounts::default()
        };
        counts
            .first_response_buckets
            .insert(first_response_bucket_attribute(7), 4);
        let item = StatsItem {
            pk: stats_pk(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(), 5),
            sk: STATS_SK.to_owned(),
            entity: Entity::Stats,
            counts: counts.clone(),
        };
        let stored: Item = serde_dynamo::to_item(&item).unwrap();
        let mut names: Vec<&str> = stored.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "PK",
                "SK",
                "entity",
                "firstResponseMsSum",
                "fr07",
                "rating5",
                "sessionsCreated"
            ]
        );
        assert_eq!(stored["PK"].as_s().unwrap(), "STATS#2026-11-28#5");
        let back: StatsItem = decode(stored).unwrap();
        assert_eq!(back, item);
        let mut sum = counts.clone();
        sum.add(&counts);
        assert_eq!(
            (sum.sessions_created, sum.first_response_buckets["fr07"]),
            (6, 8)
        );
    }

    /// DynamoDB's item size: names plus values, a number taking about one byte per two
    /// significant digits plus one.
    fn item_size(item: &Item) -> usize {
        item.iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        aws_sdk_dynamodb::types::AttributeValue::N(n) => n.len().div_ceil(2) + 1,
                        aws_sdk_dynamodb::types::AttributeValue::S(s) => s.len(),
                        other => panic!("unexpected attribute {other:?}"),
                    }
            })
            .sum()
    }

    #[test]
    fn a_full_counter_item_stays_under_1_kb_so_each_counted_change_costs_2_wcu() {
        let big = u64::MAX;
        let mut counts = StatsCounts {
            sessions_created: big,
            guest_sessions: big,
            messages_from_users: big,
            messages_from_support: big,
            ended_by_user: big,
            ended_by_admin: big,
            ended_idle: big,
            rating_count: big,
            rating_sum: big,
            rating_1: big,
            rating_2: big,
            rating_3: big,
            rating_4: big,
            rating_5: big,
            first_response_count: big,
            first_response_ms_sum: big,
            duration_count: big,
            duration_ms_sum: big,
            ..StatsCounts::default()
        };
        for bucket in 0..crate::model::first_response_histogram::FIRST_RESPONSE_BUCKET_COUNT {
            counts
                .first_response_buckets
                .insert(first_response_bucket_attribute(bucket), big);
        }
        let item = StatsItem {
            pk: stats_pk(
                NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
                STATS_SHARDS - 1,
            ),
            sk: STATS_SK.to_owned(),
            entity: Entity::Stats,
            counts,
        };
        let size = item_size(&serde_dynamo::to_item(&item).unwrap());
        assert!(size < 1024, "{size} bytes");
    }

    #[test]
    fn a_session_keeps_its_shard_and_sessions_spread_over_all_shards() {
        let ids: Vec<_> = (0..800)
            .map(|i| crate::ids::SessionId::parse(&format!("session-{i:04}")).unwrap())
            .collect();
        let mut per_shard = [0; STATS_SHARDS as usize];
        for id in &ids {
            assert_eq!(stats_shard(id), stats_shard(&id.clone()));
            per_shard[usize::from(stats_shard(id))] += 1;
        }
        assert!(per_shard.iter().all(|n| *n > 25), "{per_shard:?}");
    }
}
