//! The per-key load model's inputs are what the API does: every operation of
//! `infra/cost/request_mix.json` is performed once here, and its DynamoDB requests (by
//! operation) and the capacity units the local DynamoDB server reports for them must be the
//! file's `requests` and `measured_units`. A change to what an endpoint reads or writes fails
//! here until the mix (and so the per-key table in docs/performance/partition-load.md) is updated.

use bytes::Bytes;
use chat_core::config::Config;
use chat_core::ids::SessionId;
use chat_core::sign_in::auth::ADMIN_CACHE_SECONDS;
use chat_core::store::keys::{agent_connections_pk, session_connections_pk};
use chat_core::store::{ChatStore, Consistency, HintTurn};
use chat_core::ManualClock;
use chat_tests::push::{PushClient, FRAME_WAIT};
use chat_tests::{spawn_app_at, Agent, TestApp};
use chrono::{Duration, Utc};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use local_api::{DynamoDbServer, Template};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use test_support::request_counter::RequestCounter;

fn mix() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/cost/request_mix.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the request mix")).expect("JSON")
}

/// What one operation cost, as the mix records it.
#[derive(Debug, PartialEq)]
struct Cost {
    requests: BTreeMap<String, u64>,
    read: f64,
    write: f64,
}

fn recorded(operation: &Value) -> Cost {
    let requests = operation["requests"]
        .as_object()
        .expect("requests")
        .iter()
        .map(|(op, n)| (op.clone(), n.as_u64().expect("a count")))
        .collect();
    let units = &operation["measured_units"];
    Cost {
        requests,
        read: units["read"].as_f64().expect("read units"),
        write: units["write"].as_f64().expect("write units"),
    }
}

const READS: [&str; 5] = [
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
];
const WRITES: [&str; 4] = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"];

/// Runs `action` and returns what it cost in DynamoDB.
async fn measure<T>(app: &TestApp, action: impl Future<Output = T>) -> (T, Cost) {
    measure_with(&app.requests, action).await
}

async fn measure_with<T>(counter: &RequestCounter, action: impl Future<Output = T>) -> (T, Cost) {
    counter.take();
    counter.take_units();
    let value = action.await;
    let requests = counter.take();
    let units = counter.take_units();
    let of = |kind: &[&str]| -> f64 {
        units
            .iter()
            .filter(|(op, _)| kind.contains(&op.as_str()))
            .map(|(_, u)| u)
            .sum()
    };
    let cost = Cost {
        requests,
        read: of(&READS),
        write: of(&WRITES),
    };
    (value, cost)
}

/// The push channel's operations. Tickets, `$connect`, the ping and `$disconnect` go through
/// the API as a client sends them: the WebSocket routes run on this app's gateway, on its
/// counted client. The stream consumer's reads and writes are its store calls, made here on
/// that same client: the consumer runs (in an App of its own) only in push apps, and how many
/// calls a batch makes depends on how the stream's polls happen to split the changes into
/// batches, which the model bounds instead (`push_rates` in infra/cost/partition_load.py).
async fn measure_push(
    app: &TestApp,
    clock: &ManualClock,
    agent: &Agent,
    colleague: &Agent,
    seen: &mut BTreeMap<&'static str, Cost>,
) {
    let caller = app.start_session("Di").await;
    let (ticket, cost) = measure(app, app.customer_ticket(&caller)).await;
    seen.insert("push_ticket_customer", cost);
    let (phone, cost) = measure(app, app.connect_push(url_of(&ticket))).await;
    seen.insert("push_connect_customer", cost);
    let mut phone = phone.open();
    let (pong, cost) = measure(app, async {
        phone.send_text(r#"{"action":"ping","t":7}"#).await;
        phone.expect("pong", |_| true).await
    })
    .await;
    assert_eq!(pong["data"]["t"], 7);
    seen.insert("push_ping", cost);

    // Past the minute the admin check is kept: a ticket function's instance rarely has this
    // agent's check at hand, since an agent asks for a ticket about once an hour.
    clock.advance(Duration::seconds(ADMIN_CACHE_SECONDS + 1));
    let (ticket, cost) = measure(app, app.agent_ticket(agent)).await;
    seen.insert("push_ticket_agent", cost);
    let (desk, cost) = measure(app, app.connect_push(url_of(&ticket))).await;
    seen.insert("push_connect_agent", cost);
    let desk = desk.open();
    // Two agents connected: the list hint's index read sees both (the mix's test scene).
    let _colleague_desk = app.agent_push(colleague).await;

    let store = app.chat.store();
    let now = app.chat.now();
    let session = SessionId::parse(&caller.session_id).expect("a session id");
    let customer = session_connections_pk(&session);
    let holder = agent_connections_pk(&agent.admin_id);
    let lagging = Consistency::Eventual;
    let (found, cost) = measure(
        app,
        store.connections_of(&customer, now.timestamp(), lagging),
    )
    .await;
    assert_eq!(found.expect("query").len(), 1, "the customer's app");
    seen.insert("fanout_session_connections", cost);
    let (found, cost) = measure(app, store.connections_of(&holder, now.timestamp(), lagging)).await;
    assert_eq!(found.expect("query").len(), 1, "the agent's dashboard");
    seen.insert("fanout_holder_connections", cost);
    let (found, cost) = measure(app, store.get_session(&session)).await;
    assert!(found.expect("read").is_some());
    seen.insert("fanout_session_read", cost);
    let interval = i64::try_from(Config::DEFAULT_LIST_HINT_MS).expect("2 s");
    let (turn, cost) = measure(app, store.claim_list_hint(now.timestamp_millis(), interval)).await;
    assert!(matches!(turn, Ok(HintTurn::Mine { .. })), "{turn:?}");
    seen.insert("fanout_list_hint_won", cost);
    let (noted, cost) = measure(app, store.miss_list_hint(std::slice::from_ref(&session))).await;
    noted.expect("a miss noted");
    seen.insert("fanout_list_hint_missed", cost);
    let (found, cost) = measure(app, store.agent_connections(now.timestamp())).await;
    assert_eq!(found.expect("query").len(), 2, "both dashboards");
    seen.insert("fanout_agent_connections", cost);
    seen.insert("fanout_list_hint_refused", refused_list_hint_claim().await);

    // A second device of the customer drops: its $disconnect forgets both of its items.
    let tablet = app.customer_push(&caller).await;
    let (_, cost) = measure(app, disconnect(app, tablet, &customer)).await;
    seen.insert("push_disconnect_customer", cost);
    // The chat ends: the consumer reads its connections strongly and forgets each (the
    // phone's) before telling it; the phone's $disconnect then finds nothing to delete.
    let (found, cost) = measure(app, async {
        let found = store
            .connections_of(&customer, now.timestamp(), Consistency::Strong)
            .await
            .expect("query");
        for connection in &found {
            store
                .forget_connection(&connection.pk, &connection.connection_id)
                .await
                .expect("forget");
        }
        found
    })
    .await;
    assert_eq!(found.len(), 1, "the phone");
    seen.insert("fanout_closing_session", cost);
    let (_, cost) = measure(app, disconnect(app, phone, &customer)).await;
    seen.insert("push_disconnect_closed", cost);
    let (_, cost) = measure(app, disconnect(app, desk, &holder)).await;
    seen.insert("push_disconnect_agent", cost);
}

fn url_of(ticket: &chat_tests::ApiResponse) -> &str {
    ticket.data()["url"].as_str().expect("the ticket's URL")
}

/// The items of `partition`'s connections and the lookups naming it.
async fn connection_items(app: &TestApp, partition: &str) -> usize {
    app.table_contents()
        .await
        .iter()
        .filter(|item| item["PK"] == partition || item["owner"] == partition)
        .count()
}

/// Closes a push connection and waits for its `$disconnect`, which the gateway runs on a task
/// of its own once the socket has closed: until the lookup was read and, if the connection was
/// still stored, its two items (in `partition`, and its lookup) are gone; then a moment for
/// the last answer to be read, since its units are counted only then.
async fn disconnect(app: &TestApp, client: PushClient, partition: &str) {
    let before = connection_items(app, partition).await;
    let open = app
        .table_contents()
        .await
        .iter()
        .any(|item| item["owner"] == partition);
    client.close().await;
    app.wait_until(FRAME_WAIT, || async {
        let read = app.requests.snapshot().contains_key("GetItem");
        let left = connection_items(app, partition).await;
        // A connection still there has two items: its own and its lookup.
        read && (!open || left + 2 <= before)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
}

/// A list hint claim its condition refuses (another consumer had the turn). DynamoDB charges
/// the item's write units for it, but its answer is an error, which reports none: the
/// counter sees the request and no units. So the units are read from the local server's
/// running totals, on a server of this test's own (the shared one serves every test at once).
async fn refused_list_hint_claim() -> Cost {
    let server = tokio::task::spawn_blocking(DynamoDbServer::start)
        .await
        .expect("start")
        .expect("a DynamoDB server of the test's own");
    let counter = RequestCounter::default();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(server.endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .interceptor(counter.clone())
        .interceptor(chat_core::consumed_capacity::ConsumedCapacityLog)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = "load-model-gate";
    Template::workspace_default()
        .expect("template.yaml")
        .ensure_table(&client, table)
        .await
        .expect("create table");
    let store = ChatStore::new(client, table);
    let interval = i64::try_from(Config::DEFAULT_LIST_HINT_MS).expect("2 s");
    let now = Utc::now().timestamp_millis();
    let first = store.claim_list_hint(now, interval).await.expect("claim");
    assert!(matches!(first, HintTurn::Mine { .. }), "{first:?}");
    let before = server_totals(server.endpoint()).await;
    let (refused, mut cost) =
        measure_with(&counter, store.claim_list_hint(now + 1, interval)).await;
    let refused = refused.expect("claim");
    assert_eq!(
        refused,
        HintTurn::TakenUntil(now + interval),
        "the turn is taken for 2 s"
    );
    assert_eq!(
        (cost.read, cost.write),
        (0.0, 0.0),
        "the error reports no units"
    );
    let after = server_totals(server.endpoint()).await;
    assert_eq!(
        after["requests"].as_u64(),
        before["requests"].as_u64().map(|n| n + 1)
    );
    cost.read = after["read"].as_f64().unwrap() - before["read"].as_f64().unwrap();
    cost.write = after["write"].as_f64().unwrap() - before["write"].as_f64().unwrap();
    cost
}

/// The local DynamoDB server's running totals (`GET /_local/capacity`).
async fn server_totals(endpoint: &str) -> Value {
    let http: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let uri = format!("{endpoint}/_local/capacity")
        .parse()
        .expect("a URI");
    let response = http.get(uri).await.expect("the server's totals");
    assert!(response.status().is_success());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&body).expect("JSON")
}

#[tokio::test]
async fn the_request_mix_is_what_each_operation_costs() {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_at(Arc::new(clock.clone()), |_| {}).await;
    let agent = app.sign_up_agent("Sam").await;
    let list = "/api/admin/chat/active-sessions";
    app.admin_get(list, &agent.token).await.data(); // the admin check, cached from here on
    let mut seen: BTreeMap<&str, Cost> = BTreeMap::new();

    let (session, cost) = measure(&app, app.start_session("Ann")).await;
    seen.insert("create_session", cost);
    // A message shortly after the start: presence is not due yet, so its index key stays.
    clock.advance(Duration::seconds(10));
    let (own, cost) = measure(&app, app.user_says(&session, "my parcel is late")).await;
    seen.insert("send_user", cost);
    let (_, cost) = measure(
        &app,
        app.admin_get(&format!("{list}?waiting=true&limit=99"), &agent.token),
    )
    .await;
    seen.insert("admin_list_waiting", cost);
    let (_, cost) = measure(
        &app,
        app.admin_get(&format!("{list}?limit=50"), &agent.token),
    )
    .await;
    seen.insert("admin_list_active", cost);
    let transcript = format!("/api/admin/chat/messages/{}", session.session_id);
    // The customer's message is new to the agent: the read marker is written.
    let (_, cost) = measure(&app, app.admin_get(&transcript, &agent.token)).await;
    seen.insert("admin_open_transcript", cost);
    let typing = json!({ "sessionId": session.session_id });
    let (signal, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/typing", &agent.token, &typing),
    )
    .await;
    signal.data();
    seen.insert("typing_agent", cost);
    let (signal, cost) = measure(
        &app,
        app.post_json("/api/chat/typing", Some(&session.token), &typing),
    )
    .await;
    signal.data();
    seen.insert("typing_user", cost);
    let reply = json!({ "sessionId": session.session_id, "message": "Let me check",
                        "sender": "admin", "messageId": "msg_reply_1" });
    let (replied, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/message", &agent.token, &reply),
    )
    .await;
    seen.insert("send_agent_claiming", cost); // nobody held the chat: the reply claims it
    let reply_id = replied.data()["messageId"].as_str().unwrap().to_owned();
    let (_, cost) = measure(
        &app,
        app.admin_get(&format!("{transcript}?after={reply_id}"), &agent.token),
    )
    .await;
    seen.insert("admin_transcript_after", cost);
    let token = Some(session.token.as_str());
    let (polled, cost) = measure(&app, app.poll(&session.session_id, token, Some(&own))).await;
    assert_eq!(polled.data()["messages"].as_array().unwrap().len(), 1);
    seen.insert("poll_delivering", cost);
    let (_, cost) = measure(&app, app.poll(&session.session_id, token, Some(&reply_id))).await;
    seen.insert("poll_empty", cost);
    clock.advance(Duration::minutes(3)); // past a quarter of the 10-minute idle timeout
    let (_, cost) = measure(&app, app.poll(&session.session_id, token, Some(&reply_id))).await;
    seen.insert("poll_presence", cost);
    let (_, cost) = measure(&app, app.leave(&session)).await;
    seen.insert("leave", cost);
    let rating = json!({ "sessionId": session.session_id, "rating": 5 });
    let (_, cost) = measure(&app, app.rate(token, &rating)).await;
    seen.insert("rating", cost);

    let other = app.start_session("Bo").await;
    let colleague = app.sign_up_agent("Cy").await;
    app.admin_get(list, &agent.token).await.data(); // the admin check again, after 3 minutes
    app.admin_get(list, &colleague.token).await.data();
    let (_, cost) = measure(
        &app,
        app.admin_get("/api/admin/analytics/summary", &agent.token),
    )
    .await;
    seen.insert("analytics_summary", cost);
    let (_, cost) = measure(
        &app,
        app.admin_get("/api/admin/canned-responses", &agent.token),
    )
    .await;
    seen.insert("canned_list", cost);
    let (_, cost) = measure(&app, app.admin_get("/api/admin/agents", &agent.token)).await;
    seen.insert("agents_list", cost);
    let held = json!({ "sessionId": other.session_id });
    let (claimed, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/claim", &agent.token, &held),
    )
    .await;
    claimed.data();
    seen.insert("claim", cost);
    // A customer message the agent has not seen yet: the open chat's next read marks it read.
    let other_transcript = format!("/api/admin/chat/messages/{}", other.session_id);
    let hello = app.user_says(&other, "hello").await;
    app.admin_get(&other_transcript, &agent.token).await.data();
    app.user_says(&other, "are you there?").await;
    let (news, cost) = measure(
        &app,
        app.admin_get(&format!("{other_transcript}?after={hello}"), &agent.token),
    )
    .await;
    assert_eq!(news.data()["messages"].as_array().unwrap().len(), 1);
    seen.insert("admin_transcript_after_unread", cost);
    // The holder answers the waiting customer: the chat leaves the waiting list.
    let held_reply = json!({ "sessionId": other.session_id, "message": "Checking",
                             "sender": "admin", "messageId": "msg_reply_2" });
    let (_, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/message", &agent.token, &held_reply),
    )
    .await;
    seen.insert("send_agent", cost);
    let handover = json!({ "sessionId": other.session_id, "toAdminId": colleague.admin_id });
    let (moved, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/transfer", &agent.token, &handover),
    )
    .await;
    moved.data();
    seen.insert("transfer", cost);
    let (released, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/release", &colleague.token, &held),
    )
    .await;
    released.data();
    seen.insert("release", cost);
    let end = json!({ "sessionId": other.session_id });
    let (_, cost) = measure(
        &app,
        app.admin_post("/api/admin/chat/session/end", &agent.token, &end),
    )
    .await;
    seen.insert("admin_end", cost);
    let (_, cost) = measure(&app, app.login(&agent.email, &agent.password)).await;
    seen.insert("admin_sign_in", cost);
    measure_push(&app, &clock, &agent, &colleague, &mut seen).await;

    let mix = mix();
    let operations = mix["operations"].as_object().expect("operations");
    let names: Vec<&str> = operations.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        seen.keys().copied().collect::<Vec<_>>(),
        "every operation of the mix, and only those, is measured here"
    );
    let differing: Vec<String> = operations
        .iter()
        .filter(|(name, operation)| seen[name.as_str()] != recorded(operation))
        .map(|(name, operation)| {
            let (now, mix) = (&seen[name.as_str()], recorded(operation));
            format!("{name}: measured {now:?}, the mix says {mix:?}")
        })
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
