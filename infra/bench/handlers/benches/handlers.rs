//! CPU time per request of the poll and send handlers, DynamoDB answered in memory
//! (`cargo bench -p handler-bench`, part of `make bench`). `handler/*` is a whole request as the
//! function binary serves it; `parts/*` are its pieces, to see what dominates.

use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use chat_core::chat::{PolledMessages, WireMessage};
use chat_core::http::{respond, Failure, Reply};
use chat_core::model::SessionStatus;
use chat_core::store::items::SessionItem;
use chat_core::{App, Config, Endpoint};
use criterion::{criterion_group, criterion_main, Criterion};
use handler_bench::*;
use std::collections::HashMap;
use std::hint::black_box;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Time only requests that succeed: an error answer is much cheaper than the real path.
fn succeeds(rt: &tokio::runtime::Runtime, app: &App, endpoint: &Endpoint, event: &str) {
    let (status, body) = rt.block_on(serve(app, endpoint, event));
    assert_eq!(status, 200, "{body:?}");
}

fn handlers(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("handler");
    let idle = app(poll_dynamo(0));
    let (poll, send) = (poll_event(), send_event());
    succeeds(&rt, &idle, &poll_messages::ENDPOINT, &poll);
    group.bench_function("poll, nothing new (GetItem)", |b| {
        b.to_async(&rt)
            .iter(|| serve(&idle, &poll_messages::ENDPOINT, black_box(&poll)))
    });
    let news = app(poll_dynamo(NEW_REPLIES));
    succeeds(&rt, &news, &poll_messages::ENDPOINT, &poll);
    group.bench_function("poll, 3 replies (GetItem, Query, UpdateItem)", |b| {
        b.to_async(&rt)
            .iter(|| serve(&news, &poll_messages::ENDPOINT, black_box(&poll)))
    });
    let sender = app(send_dynamo());
    succeeds(&rt, &sender, &send_message::ENDPOINT, &send);
    group.bench_function("send (BatchGetItem, TransactWriteItems)", |b| {
        b.to_async(&rt)
            .iter(|| serve(&sender, &send_message::ENDPOINT, black_box(&send)))
    });
    group.finish();
}

fn parts(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("parts");
    let poll = poll_event();
    group.bench_function("API Gateway event -> Request", |b| {
        b.iter(|| lambda_http::request::from_str(black_box(&poll)).expect("parses"))
    });

    // The SDK's whole round trip for the session read: build, sign, serialize, "send",
    // parse the JSON answer into attribute values. First with the functions' client, then
    // with one setting of it undone at a time, to price each on the same build and run.
    let key = HashMap::from([
        (
            "PK".to_owned(),
            AttributeValue::S(format!("SESSION#{SESSION}")),
        ),
        ("SK".to_owned(), AttributeValue::S("SESSION".to_owned())),
    ]);
    let with_stalled_stream_protection =
        chat_core::app::dynamodb_config(bare_config(poll_dynamo(0)))
            .stalled_stream_protection(StalledStreamProtectionConfig::enabled().build());
    let without_capacity_log = chat_core::app::with_dynamodb_limits(bare_config(poll_dynamo(0)));
    let clients = [
        ("SDK GetItem round trip", client(poll_dynamo(0))),
        (
            "SDK GetItem, stalled-stream protection on (SDK default)",
            aws_sdk_dynamodb::Client::from_conf(with_stalled_stream_protection.build()),
        ),
        (
            "SDK GetItem, without the consumed-capacity interceptor",
            aws_sdk_dynamodb::Client::from_conf(without_capacity_log.build()),
        ),
    ];
    for (name, client) in &clients {
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                client
                    .get_item()
                    .table_name(TABLE)
                    .set_key(Some(key.clone()))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("answered")
            })
        });
    }

    let item: HashMap<String, AttributeValue> =
        serde_dynamo::to_item(session_item(0)).expect("serializes");
    group.bench_function("serde_dynamo decode of the session item", |b| {
        b.iter(|| serde_dynamo::from_item::<_, SessionItem>(black_box(item.clone())).expect("ok"))
    });

    let config = Config::for_table(TABLE);
    let failure = Failure::internal("POLLING_FAILED", "Failed to poll messages");
    let polled = PolledMessages {
        messages: replies(NEW_REPLIES)
            .into_iter()
            .map(WireMessage::from)
            .collect(),
        session_ended: false,
        session_status: SessionStatus::Active,
        end_reason: None,
        has_more: false,
        support_typing: false,
        support_read_up_to: None,
    };
    group.bench_function("envelope of a poll with 3 replies", |b| {
        b.iter(|| {
            let reply = Reply::new(black_box(&polled), "Messages retrieved successfully");
            respond(&config, failure, Ok(reply))
        })
    });
    group.finish();
}

criterion_group!(benches, handlers, parts);
criterion_main!(benches);
