//! Lambda's DynamoDB event source mapping, emulated: polls the table's stream on the local
//! server, drops what the template's `FilterCriteria` rejects, batches, invokes the consumer's
//! [`Handler::Stream`] as Lambda would (the same event JSON), and follows Lambda's rules for
//! partial failures, bisection, retries, record age and the on-failure destination
//! (docs/decisions/0009-push-channel.md, "The event source mapping").
//!
//! moto restores a deep copy of the table, stream shard included, when a transaction is
//! cancelled: an iterator taken before then reads the old shard (a phantom record, and never
//! the next write). So no iterator is ever reused: every read takes a fresh
//! `GetShardIterator(AFTER_SEQUENCE_NUMBER, <last record read>)`.

use crate::template::{DynamoDbEvent, Template, TemplateError};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client as StreamsClient;
use chat_core::endpoint::Handler;
use chat_core::push::PushSender;
use chat_core::{App, Endpoint};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use serde_yaml::Value as Yaml;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Lambda polls each shard of a DynamoDB stream four times a second.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The first retry's wait; it doubles with each retry (up to 64 times this).
const RETRY_BACKOFF: Duration = Duration::from_millis(10);
/// The most records one `GetRecords` returns.
const READ_LIMIT: i32 = 1000;

#[derive(Debug, Error)]
pub enum StreamMappingError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template.yaml: {0}")]
    Shape(String),
    #[error("template.yaml gives function {0:?} a DynamoDB event, but the local registry has no stream handler of that name")]
    UnknownFunction(String),
    #[error("the table {0:?} has no stream (StreamSpecification missing?)")]
    NoStream(String),
    #[error("reading the stream failed: {0}")]
    Streams(String),
}

fn shape(message: impl Into<String>) -> StreamMappingError {
    StreamMappingError::Shape(message.into())
}

/// Where a mapping starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// The oldest record the stream holds.
    TrimHorizon,
    /// Only records written after the mapping started.
    Latest,
}

/// One entry of the on-failure destination: what Lambda sends to the SQS queue when it gives
/// up on records (their shard and sequence range, not the records themselves).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnFailureRecord {
    /// `RetryAttemptsExhausted` or `RecordAgeExceeded`.
    pub condition: String,
    /// Invocations made with these records (0 when they expired before any).
    pub approximate_invoke_count: u32,
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub batch_size: usize,
    pub stream_arn: String,
    /// Epoch seconds of the first and last record's `ApproximateCreationDateTime`.
    pub approximate_arrival_of_first_record: f64,
    pub approximate_arrival_of_last_record: f64,
}

impl OnFailureRecord {
    /// The message Lambda writes to an SQS on-failure destination, with what the emulator
    /// knows (no request id, function ARN or response context).
    pub fn to_message(&self) -> Json {
        let iso = |secs: f64| {
            aws_smithy_types::DateTime::from_secs_f64(secs)
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default()
        };
        json!({
            "requestContext": {
                "condition": self.condition,
                "approximateInvokeCount": self.approximate_invoke_count,
            },
            "version": "1.0",
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": self.start_sequence_number,
                "endSequenceNumber": self.end_sequence_number,
                "approximateArrivalOfFirstRecord": iso(self.approximate_arrival_of_first_record),
                "approximateArrivalOfLastRecord": iso(self.approximate_arrival_of_last_record),
                "batchSize": self.batch_size,
                "streamArn": self.stream_arn,
            }
        })
    }
}

/// What a running mapping has done so far; tests wait for a condition on it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamStats {
    /// Polls begun.
    pub polls_started: u64,
    /// The number of the last poll that found nothing new with nothing left to deliver.
    pub last_idle_poll: u64,
    /// Handler invocations (a duplicate delivery counts).
    pub invocations: u64,
    /// Records handed to the handler, summed over invocations.
    pub records_delivered: u64,
    /// Records the filter criteria dropped.
    pub records_filtered: u64,
    /// Entries in the on-failure queue.
    pub failures: usize,
    /// The sequence number of the last record done with (delivered, filtered or given up).
    pub checkpoint: Option<String>,
}

/// The template's `DynamoDB` event of the stream consumer, ready to run.
#[derive(Clone)]
pub struct StreamMapping {
    function: &'static str,
    consume: for<'a> fn(
        &'a App,
        &'a PushSender,
        aws_lambda_events::dynamodb::Event,
    ) -> chat_core::endpoint::StreamFuture<'a>,
    batch_size: usize,
    batching_window: Duration,
    /// None: retry until the records expire (-1).
    maximum_retry_attempts: Option<u32>,
    /// None: no limit (-1).
    maximum_record_age: Option<Duration>,
    bisect_on_error: bool,
    report_batch_item_failures: bool,
    starting_position: StartingPosition,
    /// Any pattern passing lets a record through; none at all lets everything through.
    filters: Vec<Json>,
    function_timeout: Duration,
    duplicate_delivery: bool,
}

fn yaml_u64(props: &Yaml, key: &str) -> Result<Option<u64>, StreamMappingError> {
    match props.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| shape(format!("{key} is not a literal whole number"))),
    }
}

/// -1 (or absent) is Lambda's "no limit".
fn yaml_limit(props: &Yaml, key: &str) -> Result<Option<u64>, StreamMappingError> {
    match props.get(key) {
        None => Ok(None),
        Some(v) if v.as_i64() == Some(-1) => Ok(None),
        Some(_) => yaml_u64(props, key),
    }
}

impl StreamMapping {
    /// The stream consumer of `template.yaml` (the function whose `Events` has a
    /// `Type: DynamoDB`), with the handler of the endpoint named as its `CodeUri` folder.
    /// `Ok(None)` when no function consumes the stream.
    pub fn from_template(
        template: &Template,
        endpoints: &[Endpoint],
    ) -> Result<Option<Self>, StreamMappingError> {
        let mut events = template.dynamodb_events()?;
        let Some(event) = events.pop() else {
            return Ok(None);
        };
        if !events.is_empty() {
            return Err(shape(
                "more than one DynamoDB event; the design has one consumer",
            ));
        }
        Self::from_event(&event, endpoints).map(Some)
    }

    fn from_event(
        event: &DynamoDbEvent,
        endpoints: &[Endpoint],
    ) -> Result<Self, StreamMappingError> {
        let endpoint = endpoints
            .iter()
            .find(|e| e.name == event.function)
            .ok_or_else(|| StreamMappingError::UnknownFunction(event.function.clone()))?;
        let Handler::Stream(consume) = endpoint.handler else {
            return Err(StreamMappingError::UnknownFunction(event.function.clone()));
        };
        let props = &event.properties;
        let starting_position = match props.get("StartingPosition").and_then(Yaml::as_str) {
            Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
            Some("LATEST") => StartingPosition::Latest,
            other => return Err(shape(format!("StartingPosition {other:?}"))),
        };
        let report_batch_item_failures = props
            .get("FunctionResponseTypes")
            .and_then(Yaml::as_sequence)
            .is_some_and(|types| {
                types
                    .iter()
                    .any(|t| t.as_str() == Some("ReportBatchItemFailures"))
            });
        let mut filters = Vec::new();
        for filter in props
            .get("FilterCriteria")
            .and_then(|f| f.get("Filters"))
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
        {
            let text = filter
                .get("Pattern")
                .and_then(Yaml::as_str)
                .ok_or_else(|| shape("a filter without a literal Pattern"))?;
            let pattern: Json = serde_json::from_str(text)
                .map_err(|e| shape(format!("filter pattern {text}: {e}")))?;
            check_pattern(&pattern).map_err(|e| shape(format!("filter pattern {text}: {e}")))?;
            filters.push(pattern);
        }
        Ok(Self {
            function: endpoint.name,
            consume,
            batch_size: yaml_u64(props, "BatchSize")?.unwrap_or(100) as usize,
            batching_window: Duration::from_secs(
                yaml_u64(props, "MaximumBatchingWindowInSeconds")?.unwrap_or(0),
            ),
            maximum_retry_attempts: yaml_limit(props, "MaximumRetryAttempts")?.map(|n| n as u32),
            maximum_record_age: yaml_limit(props, "MaximumRecordAgeInSeconds")?
                .map(Duration::from_secs),
            bisect_on_error: props
                .get("BisectBatchOnFunctionError")
                .and_then(Yaml::as_bool)
                .unwrap_or(false),
            report_batch_item_failures,
            starting_position,
            filters,
            function_timeout: Duration::from_secs(event.timeout_seconds),
            duplicate_delivery: std::env::var("STREAM_DUPLICATE_DELIVERY").is_ok_and(|v| v == "1"),
        })
    }

    /// The consumer's function name (its `CodeUri` folder).
    pub fn function(&self) -> &'static str {
        self.function
    }

    /// Where to start instead of the template's `StartingPosition`: a table created just now
    /// is read from its first record, as on AWS where the mapping exists before any write.
    pub fn starting_position(mut self, position: StartingPosition) -> Self {
        self.starting_position = position;
        self
    }

    /// At-least-once delivery made visible: every batch the handler accepts is delivered a
    /// second time (also on with `STREAM_DUPLICATE_DELIVERY=1`).
    pub fn duplicate_delivery(mut self, on: bool) -> Self {
        self.duplicate_delivery = on;
        self
    }

    /// A shorter record age limit than the template's, for tests of expiry.
    pub fn maximum_record_age(mut self, age: Duration) -> Self {
        self.maximum_record_age = Some(age);
        self
    }

    /// Starts polling the stream of the app's table on the DynamoDB-compatible server at
    /// `dynamodb_endpoint` (moto serves the streams API there too), in the region of the
    /// app's own DynamoDB client. The consumer gets `app` and `sender`.
    pub async fn start(
        self,
        app: Arc<App>,
        sender: PushSender,
        dynamodb_endpoint: &str,
    ) -> Result<RunningStreamMapping, StreamMappingError> {
        let table = app.chat.store().table().to_owned();
        let dynamodb = app.chat.store().client().config();
        // The mapping reads as Lambda's service does, not as the function: credentials of
        // its own (the local server checks none), the region of the app's table.
        let config = aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .endpoint_url(dynamodb_endpoint)
            .region(dynamodb.region().cloned())
            .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "local event source mapping",
            ))
            .build();
        let client = StreamsClient::from_conf(config);
        let stream_arn = client
            .list_streams()
            .table_name(&table)
            .send()
            .await
            .map_err(streams_error)?
            .streams()
            .iter()
            .find_map(|s| s.stream_arn().map(str::to_owned))
            .ok_or_else(|| StreamMappingError::NoStream(table.clone()))?;
        let shard_id = client
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
            .map_err(streams_error)?
            .stream_description()
            .and_then(|d| d.shards().first())
            .and_then(|s| s.shard_id())
            .map(str::to_owned)
            .ok_or_else(|| StreamMappingError::NoStream(table.clone()))?;

        let (stats, _) = watch::channel(StreamStats::default());
        let stats = Arc::new(stats);
        let failures = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = watch::channel(false);
        let mut poller = Poller {
            mapping: self,
            client,
            stream_arn: stream_arn.clone(),
            shard_id,
            read_after: None,
            buffer: VecDeque::new(),
            app,
            sender,
            stats: stats.clone(),
            failures: failures.clone(),
            stopped,
        };
        if poller.mapping.starting_position == StartingPosition::Latest {
            poller.skip_to_latest().await?;
        }
        let task = tokio::spawn(poller.run());
        Ok(RunningStreamMapping {
            stream_arn,
            stats,
            failures,
            stop,
            task: Some(task),
        })
    }
}

fn streams_error<E: std::error::Error + 'static>(
    err: aws_sdk_dynamodbstreams::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> StreamMappingError {
    StreamMappingError::Streams(
        aws_sdk_dynamodbstreams::error::DisplayErrorContext(err).to_string(),
    )
}

/// A mapping at work; stops (after the invocation under way) on [`Self::stop`] or drop.
pub struct RunningStreamMapping {
    stream_arn: String,
    stats: Arc<watch::Sender<StreamStats>>,
    failures: Arc<Mutex<Vec<OnFailureRecord>>>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// A wait that ran out; what the mapping had done by then.
#[derive(Debug, Error)]
#[error("the stream mapping did not get there in time: {0:?}")]
pub struct TimedOut(pub StreamStats);

impl RunningStreamMapping {
    /// The stream's ARN (each record's `eventSourceARN`).
    pub fn stream_arn(&self) -> &str {
        &self.stream_arn
    }

    pub fn stats(&self) -> StreamStats {
        self.stats.borrow().clone()
    }

    /// Records handed to the handler so far (a duplicate delivery counts).
    pub fn delivered(&self) -> u64 {
        self.stats.borrow().records_delivered
    }

    /// The on-failure queue: every range of records Lambda would have given up on.
    pub fn failures(&self) -> Vec<OnFailureRecord> {
        self.failures.lock().expect("failures lock").clone()
    }

    /// Waits until `done` holds for the mapping's stats, or `timeout` passes.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&StreamStats) -> bool,
    ) -> Result<StreamStats, TimedOut> {
        let mut changes = self.stats.subscribe();
        let waited = tokio::time::timeout(timeout, async {
            changes
                .wait_for(|stats| done(stats))
                .await
                .map(|stats| stats.clone())
        })
        .await;
        match waited {
            Ok(Ok(stats)) => Ok(stats),
            _ => Err(TimedOut(self.stats())),
        }
    }

    /// Waits until everything written before this call has been dealt with: a poll begun
    /// after it found nothing new and nothing left to deliver.
    pub async fn wait_idle(&self, timeout: Duration) -> Result<StreamStats, TimedOut> {
        let begun = self.stats.borrow().polls_started;
        self.wait_until(timeout, |stats| stats.last_idle_poll > begun)
            .await
    }

    /// Stops polling once the invocation under way (if any) returned.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningStreamMapping {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// One stream record: as Lambda delivers it, and what the mapping needs to know of it.
#[derive(Debug, Clone)]
struct StreamItem {
    sequence_number: String,
    /// Epoch seconds (`ApproximateCreationDateTime`).
    created: f64,
    event: Json,
}

struct Poller {
    mapping: StreamMapping,
    client: StreamsClient,
    stream_arn: String,
    shard_id: String,
    /// The last record read from the stream (delivered or buffered).
    read_after: Option<String>,
    /// Read and passed by the filters, not yet delivered; with when each was read.
    buffer: VecDeque<(StreamItem, Instant)>,
    app: Arc<App>,
    sender: PushSender,
    stats: Arc<watch::Sender<StreamStats>>,
    failures: Arc<Mutex<Vec<OnFailureRecord>>>,
    stopped: watch::Receiver<bool>,
}

/// What one invocation came to.
enum Outcome {
    Success,
    /// The handler reported these records failed: retry from the one at this index.
    RetryFrom(usize),
    /// An error, a timeout, a crash or an unusable response: the whole batch failed.
    Failed,
}

impl Poller {
    fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    async fn run(mut self) {
        while !self.is_stopped() {
            let poll = {
                let mut number = 0;
                self.stats.send_modify(|s| {
                    s.polls_started += 1;
                    number = s.polls_started;
                });
                number
            };
            let read = match self.read().await {
                Ok(read) => Some(read),
                Err(err) => {
                    tracing::warn!(error = %err, "reading the table's stream failed");
                    None
                }
            };
            if self.buffer.is_empty() {
                if read == Some(0) {
                    self.stats.send_modify(|s| s.last_idle_poll = poll);
                }
                self.pause(POLL_INTERVAL).await;
                continue;
            }
            let waited = self.buffer.front().map(|(_, at)| at.elapsed());
            if self.buffer.len() < self.mapping.batch_size
                && waited.is_some_and(|w| w < self.mapping.batching_window)
            {
                // Gathering a fuller batch within the batching window.
                self.pause(POLL_INTERVAL).await;
                continue;
            }
            let take = self.buffer.len().min(self.mapping.batch_size);
            let batch: Vec<StreamItem> = self.buffer.drain(..take).map(|(item, _)| item).collect();
            self.process(batch).await;
        }
    }

    async fn pause(&self, how_long: Duration) {
        let mut stopped = self.stopped.clone();
        let _ = tokio::time::timeout(how_long, stopped.wait_for(|stop| *stop)).await;
    }

    /// Reads every record after the last one read, with a fresh iterator (see the module
    /// documentation); returns how many were read.
    async fn read(&mut self) -> Result<usize, StreamMappingError> {
        let mut count = 0;
        loop {
            let records = self.read_page().await?;
            let page = records.len();
            for record in records {
                let item = stream_item(&record, &self.stream_arn)?;
                self.read_after = Some(item.sequence_number.clone());
                count += 1;
                if self.passes_filters(&item.event) {
                    self.buffer.push_back((item, Instant::now()));
                } else {
                    let done = self.buffer.is_empty().then(|| item.sequence_number.clone());
                    self.stats.send_modify(|s| {
                        s.records_filtered += 1;
                        if done.is_some() {
                            s.checkpoint = done;
                        }
                    });
                }
            }
            if page < READ_LIMIT as usize {
                return Ok(count);
            }
        }
    }

    async fn read_page(&self) -> Result<Vec<Record>, StreamMappingError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(&self.shard_id);
        let request = match &self.read_after {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let iterator = request.send().await.map_err(streams_error)?;
        let Some(iterator) = iterator.shard_iterator() else {
            return Ok(Vec::new()); // a closed shard: nothing more to read
        };
        let page = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(READ_LIMIT)
            .send()
            .await
            .map_err(streams_error)?;
        Ok(page.records().to_vec())
    }

    /// `LATEST`: everything already in the stream is behind the starting point.
    async fn skip_to_latest(&mut self) -> Result<(), StreamMappingError> {
        loop {
            let records = self.read_page().await?;
            if let Some(last) = records
                .last()
                .and_then(|r| r.dynamodb())
                .and_then(|d| d.sequence_number())
            {
                self.read_after = Some(last.to_owned());
            }
            if records.len() < READ_LIMIT as usize {
                let checkpoint = self.read_after.clone();
                self.stats.send_modify(|s| s.checkpoint = checkpoint);
                return Ok(());
            }
        }
    }

    fn passes_filters(&self, event: &Json) -> bool {
        self.mapping.filters.is_empty()
            || self
                .mapping
                .filters
                .iter()
                .any(|pattern| pattern_matches(pattern, event))
    }

    /// Delivers one batch as Lambda does, retries and bisection included, until every record
    /// in it is delivered or given up on.
    async fn process(&mut self, batch: Vec<StreamItem>) {
        // Parts still to deliver, the next on top, each with the retries it has used.
        let mut parts = vec![(batch, 0u32)];
        while let Some((mut records, mut retries)) = parts.pop() {
            loop {
                if self.is_stopped() {
                    return;
                }
                let expired = self.expired_prefix(&records);
                if expired > 0 {
                    let gone: Vec<StreamItem> = records.drain(..expired).collect();
                    self.give_up(&gone, "RecordAgeExceeded", retries);
                }
                if records.is_empty() {
                    break;
                }
                let outcome = self.invoke(&records).await;
                let outcome = match outcome {
                    Outcome::Success if self.mapping.duplicate_delivery => {
                        // Delivered again, as after a checkpoint Lambda failed to save.
                        self.invoke(&records).await;
                        Outcome::Success
                    }
                    other => other,
                };
                match outcome {
                    Outcome::Success => {
                        self.checkpoint(&records);
                        break;
                    }
                    Outcome::RetryFrom(first_failed) => {
                        // Lambda checkpoints just before the lowest failed record and retries
                        // from it; with bisection on, only the rest of this batch.
                        let done: Vec<StreamItem> = records.drain(..first_failed).collect();
                        self.checkpoint(&done);
                    }
                    Outcome::Failed if self.mapping.bisect_on_error && records.len() > 1 => {
                        // Splitting does not use up the retry quota.
                        let second = records.split_off(records.len() / 2);
                        parts.push((second, retries));
                        parts.push((records, retries));
                        break;
                    }
                    Outcome::Failed => {}
                }
                retries += 1;
                if self
                    .mapping
                    .maximum_retry_attempts
                    .is_some_and(|max| retries > max)
                {
                    self.give_up(&records, "RetryAttemptsExhausted", retries);
                    break;
                }
                // A backoff, as Lambda's: a record that always fails does not spin.
                self.pause(RETRY_BACKOFF * 2u32.pow(retries.min(6))).await;
            }
        }
    }

    /// How many records at the front of `records` are older than the maximum record age.
    fn expired_prefix(&self, records: &[StreamItem]) -> usize {
        let Some(max_age) = self.mapping.maximum_record_age else {
            return 0;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        records
            .iter()
            .take_while(|r| now - r.created > max_age.as_secs_f64())
            .count()
    }

    fn checkpoint(&self, done: &[StreamItem]) {
        if let Some(last) = done.last() {
            let sequence = last.sequence_number.clone();
            self.stats.send_modify(|s| s.checkpoint = Some(sequence));
        }
    }

    fn give_up(&self, records: &[StreamItem], condition: &str, invocations: u32) {
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return;
        };
        let record = OnFailureRecord {
            condition: condition.to_owned(),
            approximate_invoke_count: invocations,
            shard_id: self.shard_id.clone(),
            start_sequence_number: first.sequence_number.clone(),
            end_sequence_number: last.sequence_number.clone(),
            batch_size: records.len(),
            stream_arn: self.stream_arn.clone(),
            approximate_arrival_of_first_record: first.created,
            approximate_arrival_of_last_record: last.created,
        };
        tracing::warn!(
            function = self.mapping.function,
            failure = %record.to_message(),
            "stream records sent to the on-failure destination"
        );
        let count = {
            let mut failures = self.failures.lock().expect("failures lock");
            failures.push(record);
            failures.len()
        };
        self.checkpoint(records);
        self.stats.send_modify(|s| s.failures = count);
    }

    /// One invocation of the consumer with these records, as its function would run it.
    async fn invoke(&self, records: &[StreamItem]) -> Outcome {
        self.stats.send_modify(|s| {
            s.invocations += 1;
            s.records_delivered += records.len() as u64;
        });
        let event = json!({ "Records": records.iter().map(|r| &r.event).collect::<Vec<_>>() });
        let event: aws_lambda_events::dynamodb::Event = match serde_json::from_value(event) {
            Ok(event) => event,
            Err(err) => {
                tracing::error!(error = %err, "a stream event the handler's type cannot read");
                return Outcome::Failed;
            }
        };
        let (app, sender, consume, function) = (
            self.app.clone(),
            self.sender.clone(),
            self.mapping.consume,
            self.mapping.function,
        );
        // Its own task, so that a panic is a failed invocation, as a crashed function is.
        let invocation = tokio::spawn(test_support::iam_calls::serving(function, async move {
            consume(&app, &sender, event).await
        }));
        let abort = invocation.abort_handle();
        let answer = match tokio::time::timeout(self.mapping.function_timeout, invocation).await {
            Ok(Ok(Ok(answer))) => answer,
            Ok(Ok(Err(err))) => {
                tracing::warn!(function, error = %err, "the stream consumer failed");
                return Outcome::Failed;
            }
            Ok(Err(crash)) => {
                tracing::warn!(function, error = %crash, "the stream consumer crashed");
                return Outcome::Failed;
            }
            Err(_) => {
                abort.abort();
                tracing::warn!(function, "the stream consumer timed out");
                return Outcome::Failed;
            }
        };
        if !self.mapping.report_batch_item_failures || answer.batch_item_failures.is_empty() {
            return Outcome::Success;
        }
        // A missing, empty or unknown identifier makes the whole batch a failure.
        let mut lowest = None;
        for failure in &answer.batch_item_failures {
            let position = failure
                .item_identifier
                .as_deref()
                .filter(|id| !id.is_empty())
                .and_then(|id| records.iter().position(|r| r.sequence_number == id));
            match position {
                Some(i) => lowest = Some(lowest.map_or(i, |l: usize| l.min(i))),
                None => return Outcome::Failed,
            }
        }
        lowest.map_or(Outcome::Success, Outcome::RetryFrom)
    }
}

/// The wire JSON of an attribute value (`{"S": ...}`), as in the Lambda event.
fn attribute_json(value: &AttributeValue) -> Json {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": STANDARD.encode(b.as_ref()) }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => {
            json!({ "BS": v.iter().map(|b| STANDARD.encode(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::M(m) => json!({ "M": item_json(m) }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(attribute_json).collect::<Vec<_>>() }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        _ => Json::Null,
    }
}

fn item_json(item: &HashMap<String, AttributeValue>) -> Json {
    Json::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), attribute_json(v)))
            .collect::<Map<_, _>>(),
    )
}

/// A record exactly as Lambda puts it in the event it invokes the consumer with.
fn stream_item(record: &Record, stream_arn: &str) -> Result<StreamItem, StreamMappingError> {
    let change = record
        .dynamodb()
        .ok_or_else(|| StreamMappingError::Streams("a stream record without dynamodb".into()))?;
    let sequence_number = change
        .sequence_number()
        .ok_or_else(|| StreamMappingError::Streams("a stream record without a sequence".into()))?
        .to_owned();
    let created = change
        .approximate_creation_date_time()
        .map(|t| t.as_secs_f64())
        .unwrap_or_default();
    let mut dynamodb = Map::new();
    dynamodb.insert("ApproximateCreationDateTime".into(), json!(created));
    for (key, image) in [
        ("Keys", change.keys()),
        ("NewImage", change.new_image()),
        ("OldImage", change.old_image()),
    ] {
        if let Some(image) = image {
            dynamodb.insert(key.into(), item_json(image));
        }
    }
    dynamodb.insert("SequenceNumber".into(), json!(sequence_number));
    dynamodb.insert("SizeBytes".into(), json!(change.size_bytes().unwrap_or(0)));
    if let Some(view) = change.stream_view_type() {
        dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
    }
    let mut event = Map::new();
    event.insert(
        "eventID".into(),
        json!(record.event_id().unwrap_or_default()),
    );
    event.insert(
        "eventName".into(),
        json!(record.event_name().map(|n| n.as_str()).unwrap_or_default()),
    );
    event.insert("eventVersion".into(), json!("1.1"));
    event.insert("eventSource".into(), json!("aws:dynamodb"));
    event.insert(
        "awsRegion".into(),
        json!(record.aws_region().unwrap_or_default()),
    );
    event.insert("dynamodb".into(), Json::Object(dynamodb));
    if let Some(identity) = record.user_identity() {
        // TTL deletions: `{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`.
        event.insert(
            "userIdentity".into(),
            json!({ "type": identity.r#type(), "principalId": identity.principal_id() }),
        );
    }
    event.insert("eventSourceARN".into(), json!(stream_arn));
    Ok(StreamItem {
        sequence_number,
        created,
        event: Json::Object(event),
    })
}

/// Whether a filter pattern is one [`pattern_matches`] knows how to apply: objects all the
/// way down to arrays of matchers (exact values, `prefix`, `suffix`, `exists`,
/// `anything-but`), as in Lambda's event filtering.
fn check_pattern(pattern: &Json) -> Result<(), String> {
    let Json::Object(fields) = pattern else {
        return Err("a pattern is a JSON object".into());
    };
    for (key, sub) in fields {
        match sub {
            Json::Object(_) => check_pattern(sub)?,
            Json::Array(matchers) => {
                for matcher in matchers {
                    if let Json::Object(operator) = matcher {
                        let known = operator.len() == 1
                            && ["prefix", "suffix", "exists", "anything-but"]
                                .iter()
                                .any(|op| operator.contains_key(*op));
                        if !known {
                            return Err(format!("{key}: unsupported matcher {matcher}"));
                        }
                    }
                }
            }
            _ => return Err(format!("{key}: a pattern's values are objects or arrays")),
        }
    }
    Ok(())
}

/// EventBridge-style pattern matching, as Lambda filters stream records: every field of the
/// pattern must match; a nested object matches the nested event object; an array lists the
/// values (or matchers) any of which may match; an event array matches if any element does.
pub fn pattern_matches(pattern: &Json, event: &Json) -> bool {
    let Json::Object(fields) = pattern else {
        return false;
    };
    fields.iter().all(|(key, sub)| {
        let value = event.get(key);
        match sub {
            Json::Object(_) => value.is_some_and(|v| v.is_object() && pattern_matches(sub, v)),
            Json::Array(matchers) => matchers.iter().any(|m| matcher_matches(m, value)),
            _ => false,
        }
    })
}

fn matcher_matches(matcher: &Json, value: Option<&Json>) -> bool {
    if let Some(Json::Array(values)) = value {
        return values.iter().any(|v| matcher_matches(matcher, Some(v)));
    }
    match matcher {
        Json::Object(operator) => {
            let text = value.and_then(Json::as_str);
            if let Some(prefix) = operator.get("prefix").and_then(Json::as_str) {
                return text.is_some_and(|t| t.starts_with(prefix));
            }
            if let Some(suffix) = operator.get("suffix").and_then(Json::as_str) {
                return text.is_some_and(|t| t.ends_with(suffix));
            }
            if let Some(exists) = operator.get("exists").and_then(Json::as_bool) {
                return value.is_some() == exists;
            }
            if let Some(excluded) = operator.get("anything-but") {
                let excluded = match excluded {
                    Json::Array(list) => list.iter().collect::<Vec<_>>(),
                    one => vec![one],
                };
                return value.is_some_and(|v| !excluded.iter().any(|e| same_value(e, v)));
            }
            false
        }
        exact => value.is_some_and(|v| same_value(exact, v)),
    }
}

/// Equal values; numbers compare by value (`1` and `1.0` are the same).
fn same_value(a: &Json, b: &Json) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE_PATTERN: &str =
        r#"{"dynamodb": {"Keys": {"SK": {"S": ["SESSION", "ADMIN", {"prefix": "MSG#"}]}}}}"#;

    fn record_with_sk(sk: &str) -> Json {
        json!({
            "eventName": "INSERT",
            "dynamodb": {
                "Keys": { "PK": { "S": "SESSION#chat_1" }, "SK": { "S": sk } },
                "SequenceNumber": "1100000000017454423009",
            }
        })
    }

    #[test]
    fn the_templates_pattern_passes_sessions_agents_and_messages_only() {
        let pattern: Json = serde_json::from_str(TEMPLATE_PATTERN).unwrap();
        check_pattern(&pattern).unwrap();
        for sk in ["SESSION", "ADMIN", "MSG#000001", "MSG#"] {
            assert!(pattern_matches(&pattern, &record_with_sk(sk)), "{sk}");
        }
        for sk in [
            "IDEM#user#k",
            "COUNTER",
            "SESSIONS",
            "session",
            "CONN#x",
            "xMSG#1",
        ] {
            assert!(!pattern_matches(&pattern, &record_with_sk(sk)), "{sk}");
        }
        // A number where a string is expected, or no SK at all, does not match.
        let numeric = json!({ "dynamodb": { "Keys": { "SK": { "N": "1" } } } });
        assert!(!pattern_matches(&pattern, &numeric));
        assert!(!pattern_matches(&pattern, &json!({ "dynamodb": {} })));
    }

    #[test]
    fn every_field_of_a_pattern_must_match() {
        let pattern = json!({ "eventName": ["INSERT", "MODIFY"], "dynamodb": { "Keys": { "SK": { "S": [{ "prefix": "MSG#" }] } } } });
        assert!(pattern_matches(&pattern, &record_with_sk("MSG#1")));
        let mut removed = record_with_sk("MSG#1");
        removed["eventName"] = json!("REMOVE");
        assert!(!pattern_matches(&pattern, &removed));
    }

    #[test]
    fn other_matchers_and_values() {
        let event = json!({ "a": 1.0, "b": "x.json", "c": ["p", "q"], "d": null });
        assert!(pattern_matches(&json!({ "a": [1] }), &event));
        assert!(!pattern_matches(&json!({ "a": [2] }), &event));
        assert!(pattern_matches(
            &json!({ "b": [{ "suffix": ".json" }] }),
            &event
        ));
        assert!(pattern_matches(&json!({ "c": ["q"] }), &event));
        assert!(pattern_matches(&json!({ "d": [null] }), &event));
        assert!(pattern_matches(
            &json!({ "e": [{ "exists": false }] }),
            &event
        ));
        assert!(!pattern_matches(
            &json!({ "b": [{ "exists": false }] }),
            &event
        ));
        assert!(pattern_matches(
            &json!({ "b": [{ "anything-but": ["y"] }] }),
            &event
        ));
        assert!(!pattern_matches(
            &json!({ "b": [{ "anything-but": "x.json" }] }),
            &event
        ));
    }

    #[test]
    fn unsupported_patterns_are_refused_when_read() {
        assert!(check_pattern(&json!({ "a": "SESSION" })).is_err());
        assert!(check_pattern(&json!({ "a": [{ "numeric": [">", 1] }] })).is_err());
        assert!(check_pattern(&json!(["SESSION"])).is_err());
    }

    #[test]
    fn a_record_as_built_parses_as_the_lambda_event() {
        use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord, StreamViewType};
        let record = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Modify)
            .aws_region("us-east-1")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(aws_smithy_types::DateTime::from_secs(
                        1_765_000_000,
                    ))
                    .keys("PK", AttributeValue::S("SESSION#chat_1".into()))
                    .keys("SK", AttributeValue::S("SESSION".into()))
                    .new_image("status", AttributeValue::S("ended".into()))
                    .new_image("lastSeq", AttributeValue::N("3".into()))
                    .old_image("status", AttributeValue::S("active".into()))
                    .sequence_number("1100000000017454423009")
                    .size_bytes(40)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build(),
            )
            .build();
        let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000";
        let item = stream_item(&record, arn).unwrap();
        assert_eq!(item.event["eventVersion"], "1.1");
        assert_eq!(item.event["eventSource"], "aws:dynamodb");
        assert_eq!(
            item.event["dynamodb"]["NewImage"]["lastSeq"],
            json!({ "N": "3" })
        );
        let event: aws_lambda_events::dynamodb::Event =
            serde_json::from_value(json!({ "Records": [item.event] })).unwrap();
        let parsed = &event.records[0];
        assert_eq!(parsed.event_id, "e1");
        assert_eq!(parsed.event_name, "MODIFY");
        assert_eq!(parsed.aws_region, "us-east-1");
        assert_eq!(parsed.event_source_arn.as_deref(), Some(arn));
        assert_eq!(
            parsed.change.sequence_number.as_deref(),
            Some("1100000000017454423009")
        );
        assert_eq!(
            parsed.change.approximate_creation_date_time.timestamp(),
            1_765_000_000
        );
        assert_eq!(parsed.change.size_bytes, 40);
        assert_eq!(parsed.change.keys.len(), 2);
        assert_eq!(parsed.change.old_image.len(), 1);
        assert!(parsed.user_identity.is_none());
    }

    #[test]
    fn the_templates_event_is_read() {
        let template = Template::workspace_default().unwrap();
        let mut events = template.dynamodb_events().unwrap();
        assert_eq!(events.len(), 1);
        let event = events.pop().unwrap();
        assert_eq!(event.function, "push-fanout");
        fn consume<'a>(
            _: &'a App,
            _: &'a PushSender,
            _: aws_lambda_events::dynamodb::Event,
        ) -> chat_core::endpoint::StreamFuture<'a> {
            Box::pin(async { Ok(Default::default()) })
        }
        let endpoints = [Endpoint::stream("push-fanout", consume)];
        let mapping = StreamMapping::from_event(&event, &endpoints).unwrap();
        assert_eq!(mapping.batch_size, 100);
        assert_eq!(mapping.maximum_retry_attempts, Some(3));
        assert_eq!(mapping.maximum_record_age, Some(Duration::from_secs(300)));
        assert!(mapping.bisect_on_error && mapping.report_batch_item_failures);
        assert_eq!(mapping.starting_position, StartingPosition::Latest);
        assert_eq!(mapping.filters.len(), 1);
        assert_eq!(mapping.function_timeout, Duration::from_secs(30));
        assert!(matches!(
            StreamMapping::from_event(&event, &[]),
            Err(StreamMappingError::UnknownFunction(_))
        ));
    }
}
