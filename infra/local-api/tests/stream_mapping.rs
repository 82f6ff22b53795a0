//! The emulated DynamoDB event source mapping against the real local server: a consumer
//! defined here (its behaviour chosen by the items written) sees what Lambda would hand it.

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use chat_core::endpoint::StreamFuture;
use chat_core::push::PushSender;
use chat_core::{App, ChatError, Config, Endpoint, SystemClock};
use local_api::stream::{OnFailureRecord, StreamStats};
use local_api::{DynamoDbServer, RunningStreamMapping, StartingPosition, StreamMapping, Template};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn dynamodb_endpoint() -> String {
    DynamoDbServer::shared_endpoint()
}

/// What the consumer saw, per table (tests run in parallel, each on its own table).
#[derive(Default)]
struct Seen {
    /// Each invocation's records: (SK, eventName, the record as JSON).
    invocations: Vec<Vec<(String, String, serde_json::Value)>>,
    /// Invocations per SK so far.
    per_item: HashMap<String, u32>,
}

fn seen() -> &'static Mutex<HashMap<String, Seen>> {
    static SEEN: OnceLock<Mutex<HashMap<String, Seen>>> = OnceLock::new();
    SEEN.get_or_init(Mutex::default)
}

fn string_attribute(image: &serde_json::Value, name: &str) -> Option<String> {
    image.get(name)?.get("S")?.as_str().map(str::to_owned)
}

/// The consumer: records every invocation, and fails as each item's `behaviour` says:
/// `error:<n>` fails the whole invocation the first n times the item is in it (`error:all`
/// always), `report:<n>` reports the item in `batchItemFailures` the first n times.
fn consume<'a>(app: &'a App, _: &'a PushSender, event: Event) -> StreamFuture<'a> {
    Box::pin(async move {
        let table = app.config().table_name.clone();
        let mut all = seen().lock().unwrap();
        let state = all.entry(table).or_default();
        let mut records = Vec::new();
        let mut failed = false;
        let mut report = Vec::new();
        for record in &event.records {
            let json = serde_json::to_value(record).unwrap();
            let change = &json["dynamodb"];
            let sk = string_attribute(&change["Keys"], "SK").unwrap_or_default();
            let count = {
                let count = state.per_item.entry(sk.clone()).or_default();
                *count += 1;
                *count
            };
            let image = match change.get("NewImage") {
                Some(image) if image.as_object().is_some_and(|m| !m.is_empty()) => image,
                _ => &change["OldImage"],
            };
            let behaviour = string_attribute(image, "behaviour").unwrap_or_default();
            let over =
                |limit: &str| limit == "all" || limit.parse::<u32>().is_ok_and(|n| count <= n);
            if let Some(limit) = behaviour.strip_prefix("error:") {
                failed |= over(limit);
            }
            if let Some(limit) = behaviour.strip_prefix("report:") {
                if over(limit) {
                    report.push(record.change.sequence_number.clone());
                }
            }
            records.push((sk, record.event_name.clone(), json));
        }
        state.invocations.push(records);
        if failed {
            return Err(ChatError::Contention);
        }
        // Reported highest first: the mapping must retry from the lowest anyway.
        report.reverse();
        let mut response = DynamoDbEventResponse::default();
        for sequence in report {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence;
            response.batch_item_failures.push(failure);
        }
        Ok(response)
    })
}

struct Stack {
    table: String,
    client: aws_sdk_dynamodb::Client,
    app: Arc<App>,
}

async fn stack() -> Stack {
    let table = format!(
        "stream-test-{}",
        chat_core::ids::hex(&chat_core::ids::random_bytes::<6>())
    );
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(dynamodb_endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let created = Template::workspace_default()
        .unwrap()
        .ensure_table(&client, &table)
        .await
        .expect("create the table");
    assert!(created);
    let app = App::new(
        client.clone(),
        Config::for_table(&table),
        Arc::new(SystemClock),
    );
    Stack {
        table,
        client,
        app: Arc::new(app),
    }
}

fn sender() -> PushSender {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    PushSender::new(&sdk, "http://127.0.0.1:9/v1")
}

fn mapping() -> StreamMapping {
    let endpoints = [Endpoint::stream("push-fanout", consume)];
    StreamMapping::from_template(&Template::workspace_default().unwrap(), &endpoints)
        .expect("the template's DynamoDB event")
        .expect("a stream consumer")
        .starting_position(StartingPosition::TrimHorizon)
        .duplicate_delivery(false)
}

impl Stack {
    async fn start(&self, mapping: StreamMapping) -> RunningStreamMapping {
        mapping
            .start(self.app.clone(), sender(), &dynamodb_endpoint())
            .await
            .expect("start the mapping")
    }

    fn put(&self, pk: &str, sk: &str, behaviour: &str) -> Put {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item("PK", AttributeValue::S(pk.into()))
            .item("SK", AttributeValue::S(sk.into()));
        if !behaviour.is_empty() {
            put = put.item("behaviour", AttributeValue::S(behaviour.into()));
        }
        put.build().unwrap()
    }

    async fn write(&self, sk: &str, behaviour: &str) {
        let put = self.put("SESSION#chat_1", sk, behaviour);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item().clone()))
            .send()
            .await
            .expect("put");
    }

    /// The SKs of each invocation's records.
    fn invocations(&self) -> Vec<Vec<String>> {
        seen()
            .lock()
            .unwrap()
            .get(&self.table)
            .map(|s| {
                s.invocations
                    .iter()
                    .map(|batch| batch.iter().map(|(sk, _, _)| sk.clone()).collect())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn records(&self) -> Vec<(String, String, serde_json::Value)> {
        seen()
            .lock()
            .unwrap()
            .get(&self.table)
            .map(|s| s.invocations.concat())
            .unwrap_or_default()
    }
}

async fn idle(mapping: &RunningStreamMapping) -> StreamStats {
    mapping
        .wait_idle(WAIT)
        .await
        .expect("the mapping catches up")
}

/// Sequence numbers order as decimal numbers: by length, then by text.
fn sequence_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn batches(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|b| b.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[tokio::test]
async fn writes_reach_the_consumer_in_order_as_lambda_delivers_them() {
    let stack = stack().await;
    let mapping = stack.start(mapping()).await;
    stack.write("SESSION", "").await;
    stack
        .client
        .update_item()
        .table_name(&stack.table)
        .key("PK", AttributeValue::S("SESSION#chat_1".into()))
        .key("SK", AttributeValue::S("SESSION".into()))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", AttributeValue::S("ended".into()))
        .send()
        .await
        .unwrap();
    stack.write("MSG#000001", "").await;
    stack
        .client
        .delete_item()
        .table_name(&stack.table)
        .key("PK", AttributeValue::S("SESSION#chat_1".into()))
        .key("SK", AttributeValue::S("MSG#000001".into()))
        .send()
        .await
        .unwrap();
    let stats = idle(&mapping).await;

    let records = stack.records();
    let kinds: Vec<(&str, &str)> = records
        .iter()
        .map(|(sk, name, _)| (sk.as_str(), name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("SESSION", "INSERT"),
            ("SESSION", "MODIFY"),
            ("MSG#000001", "INSERT"),
            ("MSG#000001", "REMOVE"),
        ]
    );
    for (_, name, record) in &records {
        assert_eq!(record["eventSource"], "aws:dynamodb");
        assert_eq!(record["eventVersion"], "1.1");
        assert_eq!(record["awsRegion"], "us-east-1");
        assert_eq!(record["eventSourceARN"], mapping.stream_arn());
        assert!(record["eventID"].as_str().is_some_and(|id| !id.is_empty()));
        let change = &record["dynamodb"];
        assert_eq!(change["StreamViewType"], "NEW_AND_OLD_IMAGES");
        assert_eq!(change["Keys"]["PK"]["S"], "SESSION#chat_1");
        assert!(change["SizeBytes"].as_i64().is_some_and(|n| n > 0));
        assert!(change["ApproximateCreationDateTime"]
            .as_f64()
            .is_some_and(|t| t > 1.7e9));
        let (new, old) = (&change["NewImage"], &change["OldImage"]);
        let has = |image: &serde_json::Value| image.as_object().is_some_and(|m| !m.is_empty());
        match name.as_str() {
            "INSERT" => assert!(has(new) && !has(old), "{record}"),
            "MODIFY" => {
                assert_eq!(new["status"]["S"], "ended");
                assert!(has(old) && old.get("status").is_none(), "{record}");
            }
            _ => assert!(!has(new) && has(old), "{record}"),
        }
    }
    let sequences: Vec<&str> = records
        .iter()
        .map(|(_, _, r)| r["dynamodb"]["SequenceNumber"].as_str().unwrap())
        .collect();
    assert!(sequences
        .windows(2)
        .all(|w| sequence_order(w[0], w[1]).is_lt()));
    assert_eq!(stats.checkpoint.as_deref(), sequences.last().copied());
    assert!(mapping.failures().is_empty());
    mapping.stop().await;
}

#[tokio::test]
async fn records_the_filter_rejects_never_invoke_the_consumer() {
    let stack = stack().await;
    let mapping = stack.start(mapping()).await;
    stack.write("IDEM#user#key-1", "").await;
    stack.write("COUNTER", "").await;
    stack.write("CONN#abc", "").await;
    let stats = idle(&mapping).await;
    assert_eq!((stats.invocations, stats.records_filtered), (0, 3));
    assert!(stack.invocations().is_empty());

    stack.write("ADMIN", "").await;
    stack.write("IDEM#user#key-2", "").await;
    let stats = idle(&mapping).await;
    assert_eq!(stack.invocations(), batches(&[&["ADMIN"]]));
    assert_eq!(stats.records_filtered, 4);
    mapping.stop().await;
}

#[tokio::test]
async fn only_records_written_after_a_latest_mapping_started_are_delivered() {
    let stack = stack().await;
    stack.write("MSG#000001", "").await;
    let mapping = stack
        .start(mapping().starting_position(StartingPosition::Latest))
        .await;
    stack.write("MSG#000002", "").await;
    idle(&mapping).await;
    assert_eq!(stack.invocations(), batches(&[&["MSG#000002"]]));
    mapping.stop().await;
}

#[tokio::test]
async fn reported_item_failures_are_retried_from_the_lowest() {
    let stack = stack().await;
    // Written before the mapping starts, so that they arrive as one batch.
    stack.write("MSG#000001", "").await;
    stack.write("MSG#000002", "report:1").await;
    stack.write("MSG#000003", "").await;
    stack.write("MSG#000004", "report:1").await;
    let mapping = stack.start(mapping()).await;
    let stats = idle(&mapping).await;
    assert_eq!(
        stack.invocations(),
        batches(&[
            &["MSG#000001", "MSG#000002", "MSG#000003", "MSG#000004"],
            &["MSG#000002", "MSG#000003", "MSG#000004"],
        ])
    );
    assert!(mapping.failures().is_empty());
    assert_eq!(stats.invocations, 2);
    mapping.stop().await;
}

#[tokio::test]
async fn a_handler_error_bisects_the_batch() {
    let stack = stack().await;
    stack.write("MSG#000001", "").await;
    stack.write("MSG#000002", "").await;
    stack.write("MSG#000003", "error:2").await;
    stack.write("MSG#000004", "").await;
    let mapping = stack.start(mapping()).await;
    idle(&mapping).await;
    assert_eq!(
        stack.invocations(),
        batches(&[
            &["MSG#000001", "MSG#000002", "MSG#000003", "MSG#000004"],
            &["MSG#000001", "MSG#000002"],
            &["MSG#000003", "MSG#000004"],
            &["MSG#000003"],
            &["MSG#000004"],
        ])
    );
    assert!(mapping.failures().is_empty());
    mapping.stop().await;
}

#[tokio::test]
async fn after_three_retries_the_records_go_to_the_on_failure_queue_and_the_mapping_moves_on() {
    let stack = stack().await;
    stack.write("MSG#000001", "").await;
    stack.write("MSG#000002", "error:all").await;
    stack.write("MSG#000003", "report:all").await;
    let mapping = stack.start(mapping()).await;
    idle(&mapping).await;
    let one = |sk: &str| vec![sk.to_owned()];
    let mut expected = batches(&[&["MSG#000001", "MSG#000002", "MSG#000003"]]);
    // Bisected: [1] then [2, 3]; that fails again and splits into [2] and [3].
    expected.push(one("MSG#000001"));
    expected.extend(batches(&[&["MSG#000002", "MSG#000003"]]));
    // The first try and three retries each, then given up on.
    expected.extend(std::iter::repeat_n(one("MSG#000002"), 4));
    expected.extend(std::iter::repeat_n(one("MSG#000003"), 4));
    assert_eq!(stack.invocations(), expected);

    let records = stack.records();
    let sequence_of = |sk: &str| {
        records
            .iter()
            .find(|(s, _, _)| s == sk)
            .map(|(_, _, r)| r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let failures = mapping.failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    for (failure, sk) in failures.iter().zip(["MSG#000002", "MSG#000003"]) {
        let OnFailureRecord {
            condition,
            approximate_invoke_count,
            start_sequence_number,
            end_sequence_number,
            batch_size,
            stream_arn,
            ..
        } = failure;
        assert_eq!(condition, "RetryAttemptsExhausted");
        assert_eq!(*approximate_invoke_count, 4);
        assert_eq!((*batch_size, start_sequence_number), (1, &sequence_of(sk)));
        assert_eq!(end_sequence_number, start_sequence_number);
        assert_eq!(stream_arn, mapping.stream_arn());
        let message = failure.to_message();
        assert_eq!(
            message["requestContext"]["condition"],
            "RetryAttemptsExhausted"
        );
        assert_eq!(message["DDBStreamBatchInfo"]["batchSize"], 1);
    }

    // Moved on: the next write is delivered.
    stack.write("MSG#000004", "").await;
    let stats = idle(&mapping).await;
    assert_eq!(stack.invocations().last(), Some(&one("MSG#000004")));
    assert_eq!(stats.failures, 2);
    mapping.stop().await;
}

#[tokio::test]
async fn records_older_than_the_maximum_age_are_given_up_without_an_invocation() {
    let stack = stack().await;
    stack.write("MSG#000001", "").await;
    stack.write("MSG#000002", "").await;
    let mapping = stack
        .start(mapping().maximum_record_age(Duration::ZERO))
        .await;
    idle(&mapping).await;
    assert!(stack.invocations().is_empty());
    let failures = mapping.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].condition, "RecordAgeExceeded");
    assert_eq!(
        (failures[0].batch_size, failures[0].approximate_invoke_count),
        (2, 0)
    );
    mapping.stop().await;
}

#[tokio::test]
async fn duplicate_delivery_delivers_every_batch_twice() {
    let stack = stack().await;
    let mapping = stack.start(mapping().duplicate_delivery(true)).await;
    stack.write("MSG#000001", "").await;
    let stats = idle(&mapping).await;
    assert_eq!(
        stack.invocations(),
        batches(&[&["MSG#000001"], &["MSG#000001"]])
    );
    assert_eq!(stats.records_delivered, 2);
    mapping.stop().await;
}

#[tokio::test]
async fn a_cancelled_transaction_yields_no_record_and_hides_no_later_one() {
    let stack = stack().await;
    let mapping = stack.start(mapping()).await;
    stack.write("MSG#000001", "").await;
    idle(&mapping).await;

    let cancelled = stack
        .client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(stack.put("SESSION#chat_1", "MSG#000002", ""))
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(&stack.table)
                        .key("PK", AttributeValue::S("SESSION#chat_1".into()))
                        .key("SK", AttributeValue::S("SESSION".into()))
                        .condition_expression("attribute_exists(PK)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    assert!(cancelled.is_err(), "the condition check must cancel it");
    stack.write("MSG#000003", "").await;
    idle(&mapping).await;
    let sks: Vec<String> = stack.records().into_iter().map(|(sk, _, _)| sk).collect();
    assert_eq!(sks, ["MSG#000001", "MSG#000003"]);
    mapping.stop().await;
}
