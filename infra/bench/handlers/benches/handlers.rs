//! `make bench`: CPU time per poll and per send (the whole Lambda handler: the request in,
//! the envelope out), DynamoDB answered in memory.

use criterion::{criterion_group, criterion_main, Criterion};
use handler_bench::{app, app_with, poll_request, send_request, SESSION_ID};

fn handlers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (app, token) = app();
    // tests/fixtures.rs checks that both succeed: the numbers time the success path.
    c.bench_function("poll, nothing new", |b| {
        b.iter(|| runtime.block_on(poll_messages::ENDPOINT.serve(&app, poll_request(&token))))
    });
    c.bench_function("send", |b| {
        b.iter(|| runtime.block_on(send_message::ENDPOINT.serve(&app, send_request(&token))))
    });
    // What the poll's one DynamoDB read costs by itself (the SDK: serialize, sign, parse,
    // decode the item): the rest of the poll is ours.
    let session = chat_core::ids::SessionId::parse(SESSION_ID).expect("session id");
    c.bench_function("the poll's GetItem alone", |b| {
        b.iter(|| runtime.block_on(app.chat.store().get_session(&session)))
    });
    let (bare, _) = app_with(false);
    c.bench_function("the poll's GetItem alone, capacity not asked", |b| {
        b.iter(|| runtime.block_on(bare.chat.store().get_session(&session)))
    });
}

criterion_group!(benches, handlers);
criterion_main!(benches);
