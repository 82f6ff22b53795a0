//! The analytics summary: exactly what happened, by the day it happened (a scripted set of
//! chats over several days on a manual clock), exact under concurrent writers, a read cost
//! that depends on the days only, and bad ranges refused with nothing stored.

use chat_core::ids::SessionId;
use chat_core::model::Sender;
use chat_core::store::keys::STATS_SHARDS;
use chat_core::ManualClock;
use chat_tests::fault_proxy::{Fault, FaultProxy};
use chat_tests::{dynamodb_endpoint, spawn_app, spawn_app_at, Agent, ClientSession, TestApp};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

async fn summary(app: &TestApp, agent: &Agent, query: &str) -> Value {
    app.admin_get(
        &format!("/api/admin/analytics/summary{query}"),
        &agent.token,
    )
    .await
    .data()
    .clone()
}

/// Agent tokens last 8 hours; a script that spans days signs in again.
async fn sign_in_again(app: &TestApp, agent: &mut Agent) {
    agent.token = app.login(&agent.email, &agent.password).await.data()["token"]
        .as_str()
        .expect("token")
        .to_owned();
}

async fn start(app: &TestApp, name: &str, guest: bool) -> ClientSession {
    let data = app
        .create_session(&json!({ "userInfo": { "name": name, "isGuest": guest } }))
        .await
        .data()
        .clone();
    ClientSession {
        session_id: data["sessionId"].as_str().unwrap().to_owned(),
        token: data["clientToken"].as_str().unwrap().to_owned(),
    }
}

async fn rate(app: &TestApp, session: &ClientSession, stars: u8) -> chat_tests::ApiResponse {
    app.rate(
        Some(&session.token),
        &json!({ "sessionId": session.session_id, "rating": stars }),
    )
    .await
}

async fn admin_end(app: &TestApp, agent: &Agent, session_id: &str) -> chat_tests::ApiResponse {
    app.admin_post(
        "/api/admin/chat/session/end",
        &agent.token,
        &json!({ "sessionId": session_id }),
    )
    .await
}

/// The metrics object of a day with nothing in it.
fn empty_metrics() -> Value {
    metrics(MetricsSpec::default())
}

#[derive(Default)]
struct MetricsSpec {
    created: u64,
    guests: u64,
    from_users: u64,
    from_support: u64,
    ended: [u64; 3],
    ratings: [u64; 5],
    first_responses: (u64, Option<f64>, Option<u64>, Option<u64>),
    durations: (u64, Option<f64>),
}

fn metrics(spec: MetricsSpec) -> Value {
    let rating_count: u64 = spec.ratings.iter().sum();
    let rating_sum: u64 = (1..=5).zip(spec.ratings).map(|(star, n)| star * n).sum();
    let rating_average = (rating_count > 0)
        .then(|| ((rating_sum as f64 / rating_count as f64) * 1000.0).round() / 1000.0);
    json!({
        "sessionsCreated": spec.created,
        "guestSessions": spec.guests,
        "messagesFromUsers": spec.from_users,
        "messagesFromSupport": spec.from_support,
        "sessionsEnded": { "byUser": spec.ended[0], "byAdmin": spec.ended[1], "idle": spec.ended[2] },
        "ratings": {
            "count": rating_count,
            "average": rating_average,
            "distribution": { "1": spec.ratings[0], "2": spec.ratings[1], "3": spec.ratings[2],
                              "4": spec.ratings[3], "5": spec.ratings[4] },
        },
        "firstResponseSeconds": {
            "count": spec.first_responses.0,
            "average": spec.first_responses.1,
            "p50": spec.first_responses.2,
            "p90": spec.first_responses.3,
        },
        "durationSeconds": { "count": spec.durations.0, "average": spec.durations.1 },
    })
}

fn day(date: &str, metrics: Value) -> Value {
    let mut day = json!({ "date": date });
    day.as_object_mut()
        .unwrap()
        .extend(metrics.as_object().unwrap().clone());
    day
}

/// The script's first day: the day after tomorrow, so that agent tokens (whose expiry the JWT
/// library checks against the real clock) issued on the manual clock stay valid.
fn first_day() -> chrono::NaiveDate {
    Utc::now().date_naive() + Duration::days(2)
}

/// `time` on the script's day `offset` (0 is its first day), UTC.
fn at(offset: i64, time: &str) -> DateTime<Utc> {
    let time = chrono::NaiveTime::parse_from_str(time, "%H:%M:%S").unwrap();
    Utc.from_utc_datetime(&(first_day() + Duration::days(offset)).and_time(time))
}

/// Day `offset` of the script as the API writes it.
fn date(offset: i64) -> String {
    (first_day() + Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn the_summary_counts_a_scripted_week_of_chats_by_the_day_each_event_happened() {
    let clock = ManualClock::new(at(0, "09:00:00"));
    let app = spawn_app_at(Arc::new(clock.clone()), |_| {}).await; // idle after 10 minutes
    let set = |offset: i64, time: &str| {
        let target = at(offset, time);
        clock.advance(target - chat_core::Clock::now(&clock));
    };
    let mut agent = app.sign_up_agent("Sam").await;

    // Day 0. A guest asks, is answered after 30 s, asks again, leaves after 5 min.
    let a = start(&app, "Guest A", true).await;
    set(0, "09:00:10");
    app.user_says(&a, "hi").await;
    set(0, "09:00:40");
    app.agent_replies(&agent, &a.session_id, "hello!").await;
    set(0, "09:01:00");
    app.user_says(&a, "one more thing").await;
    set(0, "09:01:30");
    app.agent_replies(&agent, &a.session_id, "sure").await; // not a first response
    set(0, "09:05:00");
    app.leave(&a).await.data();
    // B is answered after 2 minutes, the agent ends the chat after 10, B rates it 3.
    set(0, "09:10:00");
    let b = start(&app, "Bea", false).await;
    set(0, "09:10:05");
    app.user_says(&b, "my order?").await;
    set(0, "09:12:05");
    app.agent_replies(&agent, &b.session_id, "on its way").await;
    set(0, "09:20:00");
    admin_end(&app, &agent, &b.session_id).await.data();
    rate(&app, &b, 3).await.data();
    // C, a guest, writes just before midnight and is never heard from again.
    set(0, "23:55:00");
    let c = start(&app, "Guest C", true).await;
    set(0, "23:55:30");
    app.user_says(&c, "anyone?").await;

    // Day 1: the idle sweep ends C (counted today, 11 minutes after it started); A and C
    // rate; D gets a greeting before writing, then the first response 10 minutes later.
    set(1, "00:06:00");
    assert_eq!(app.run_idle_sweep().await, 1);
    set(1, "08:00:00");
    rate(&app, &a, 5).await.data();
    rate(&app, &c, 1).await.data();
    sign_in_again(&app, &mut agent).await;
    set(1, "10:00:00");
    let d = start(&app, "Dan", false).await;
    set(1, "10:00:20");
    app.agent_replies(&agent, &d.session_id, "welcome").await; // before any customer message
    set(1, "10:01:00");
    app.user_says(&d, "help").await;
    set(1, "10:11:00");
    app.agent_replies(&agent, &d.session_id, "sorry for the wait")
        .await;
    set(1, "10:12:00");
    app.leave(&d).await.data();
    rate(&app, &d, 4).await.data();
    // A second rating of the same chat is refused and not counted.
    rate(&app, &d, 1).await.assert_error(400, "RATING_EXISTS");

    // Day 2: nothing. Day 3: a guest's chat ended by the agent after 30 minutes.
    set(3, "12:00:00");
    sign_in_again(&app, &mut agent).await;
    let e = start(&app, "Guest E", true).await;
    set(3, "12:30:00");
    admin_end(&app, &agent, &e.session_id).await.data();

    let day0 = metrics(MetricsSpec {
        created: 3,
        guests: 2,
        from_users: 4,
        from_support: 3,
        ended: [1, 1, 0],
        ratings: [0, 0, 1, 0, 0],
        first_responses: (2, Some(75.0), Some(30), Some(120)),
        durations: (2, Some(450.0)),
    });
    let day1 = metrics(MetricsSpec {
        created: 1,
        from_users: 1,
        from_support: 2,
        ended: [1, 0, 1],
        ratings: [1, 0, 0, 1, 1],
        first_responses: (1, Some(600.0), Some(600), Some(600)),
        durations: (2, Some(690.0)),
        ..MetricsSpec::default()
    });
    let day3 = metrics(MetricsSpec {
        created: 1,
        guests: 1,
        ended: [0, 1, 0],
        durations: (1, Some(1800.0)),
        ..MetricsSpec::default()
    });
    let totals = metrics(MetricsSpec {
        created: 5,
        guests: 3,
        from_users: 5,
        from_support: 5,
        ended: [2, 2, 1],
        ratings: [1, 0, 1, 1, 1],
        // 30, 120 and 600 s: the median is 120 (bucket 90-120), the 90th 600 (450-600).
        first_responses: (3, Some(250.0), Some(120), Some(600)),
        durations: (5, Some(816.0)),
    });
    let expected = json!({
        "from": date(-1),
        "to": date(3),
        "totals": totals,
        "days": [
            day(&date(-1), empty_metrics()),
            day(&date(0), day0),
            day(&date(1), day1),
            day(&date(2), empty_metrics()),
            day(&date(3), day3),
        ],
        "events": [
            { "date": date(3), "eventType": "SESSION_CREATED", "count": 1 },
            { "date": date(3), "eventType": "SESSION_ENDED", "count": 1 },
            { "date": date(1), "eventType": "SESSION_CREATED", "count": 1 },
            { "date": date(1), "eventType": "MESSAGE_SENT", "count": 3 },
            { "date": date(1), "eventType": "SESSION_ENDED", "count": 2 },
            { "date": date(0), "eventType": "SESSION_CREATED", "count": 3 },
            { "date": date(0), "eventType": "MESSAGE_SENT", "count": 7 },
            { "date": date(0), "eventType": "SESSION_ENDED", "count": 2 },
        ],
    });
    let got = summary(&app, &agent, &format!("?from={}&to={}", date(-1), date(3))).await;
    assert_eq!(got, expected, "{got:#}");

    // Percentiles within the documented bound: above the previous bucket edge, at most the
    // reported one (true nearest-rank values: 120 and 600).
    let reported = &got["totals"]["firstResponseSeconds"];
    assert!((90..=120).contains(&reported["p50"].as_u64().unwrap()));
    assert!((450..=600).contains(&reported["p90"].as_u64().unwrap()));

    // No range: the last 7 days up to today (day 3).
    let week = summary(&app, &agent, "").await;
    assert_eq!(
        (&week["from"], &week["to"]),
        (&json!(date(-3)), &json!(date(3)))
    );
    assert_eq!(week["days"].as_array().unwrap().len(), 7);
    assert_eq!(week["totals"], expected["totals"]);
    // Only `to`: the week before it.
    let until_day0 = summary(&app, &agent, &format!("?to={}", date(0))).await;
    assert_eq!(until_day0["from"], json!(date(-6)));
    assert_eq!(
        until_day0["totals"],
        expected["days"][1]
            .as_object()
            .map(|d| {
                let mut d = d.clone();
                d.remove("date");
                Value::Object(d)
            })
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_ends_and_ratings_are_each_counted_exactly_once() {
    const SESSIONS: usize = 12;
    const USER_SENDS: usize = 4;
    const AGENT_SENDS: usize = 3;
    let app = Arc::new(spawn_app().await);
    let agents = [
        app.sign_up_agent("Ada").await,
        app.sign_up_agent("Bo").await,
    ];
    let mut sessions = Vec::new();
    let mut creators = Vec::new();
    for i in 0..SESSIONS {
        let app = app.clone();
        creators.push(tokio::spawn(async move {
            start(&app, &format!("C{i}"), i % 3 == 0).await
        }));
    }
    for creator in creators {
        sessions.push(creator.await.unwrap());
    }

    // Customers and both agents write into every session at once (the second agent's replies
    // are forced: the first reply claims the session).
    let mut writers = Vec::new();
    for session in &sessions {
        for n in 0..USER_SENDS {
            let (app, session) = (app.clone(), session.clone());
            writers.push(tokio::spawn(async move {
                app.user_says(&session, &format!("question {n}")).await;
            }));
        }
        for n in 0..AGENT_SENDS {
            for agent in &agents {
                let (app, agent, id) = (app.clone(), agent.clone(), session.session_id.clone());
                writers.push(tokio::spawn(async move {
                    app.agent_replies_anyway(&agent, &id, &format!("answer {n}"))
                        .await;
                }));
            }
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }

    // Each session: the customer leaves while an agent ends it, then two ratings race.
    let mut racers = Vec::new();
    for (i, session) in sessions.iter().enumerate() {
        let (app1, s1) = (app.clone(), session.clone());
        racers.push(tokio::spawn(async move {
            // The loser of the race is told the session is gone (or, after it, how it ended).
            let left = app1.leave(&s1).await;
            assert!(left.status == 200 || left.error_code() == "SESSION_NOT_FOUND");
        }));
        let (app2, agent, id) = (
            app.clone(),
            agents[i % 2].clone(),
            session.session_id.clone(),
        );
        racers.push(tokio::spawn(async move {
            let ended = admin_end(&app2, &agent, &id).await;
            assert!(ended.status == 200 || ended.error_code() == "SESSION_NOT_FOUND");
        }));
    }
    for racer in racers {
        racer.await.unwrap();
    }
    let mut raters = Vec::new();
    for (i, session) in sessions.iter().enumerate() {
        for stars in [1 + (i % 5) as u8, 5 - (i % 5) as u8] {
            let (app, session) = (app.clone(), session.clone());
            raters.push(tokio::spawn(async move {
                let rated = rate(&app, &session, stars).await;
                assert!(rated.status == 200 || rated.error_code() == "RATING_EXISTS");
            }));
        }
    }
    for rater in raters {
        rater.await.unwrap();
    }

    // What happened, from the sessions and transcripts themselves.
    let (mut by_user, mut by_admin, mut first_responses, mut first_ms) = (0, 0, 0, 0);
    let mut ratings = [0u64; 5];
    for session in &sessions {
        let id = SessionId::parse(&session.session_id).unwrap();
        let stored = app.chat.store().get_session(&id).await.unwrap().unwrap();
        match stored.end_reason.unwrap().as_str() {
            "user" => by_user += 1,
            _ => by_admin += 1,
        }
        ratings[usize::from(stored.rating.unwrap()) - 1] += 1;
        // The first response: the first support message after the first customer message.
        let transcript = app.transcript(&session.session_id).await.messages;
        let first_user = transcript.iter().find(|m| m.sender == Sender::User);
        let first_reply = first_user.and_then(|u| {
            transcript
                .iter()
                .find(|m| m.sender == Sender::Admin && m.message_id > u.message_id)
        });
        assert_eq!(
            stored.first_response_at,
            first_reply.map(|r| r.timestamp),
            "{}",
            session.session_id
        );
        if let (Some(user), Some(reply)) = (first_user, first_reply) {
            first_responses += 1;
            first_ms += (reply.timestamp - user.timestamp).num_milliseconds();
        }
    }

    let agent = &agents[0];
    let today = Utc::now().date_naive();
    let range = format!(
        "?from={}&to={}",
        today - Duration::days(1),
        today + Duration::days(1)
    );
    let totals = summary(&app, agent, &range).await["totals"].clone();
    let stars_given: u64 = (1..=5).zip(ratings).map(|(s, n)| s * n).sum();
    assert_eq!(totals["sessionsCreated"], json!(SESSIONS));
    assert_eq!(totals["guestSessions"], json!(SESSIONS / 3));
    assert_eq!(totals["messagesFromUsers"], json!(SESSIONS * USER_SENDS));
    assert_eq!(
        totals["messagesFromSupport"],
        json!(SESSIONS * AGENT_SENDS * agents.len())
    );
    assert_eq!(
        totals["sessionsEnded"],
        json!({ "byUser": by_user, "byAdmin": by_admin, "idle": 0 })
    );
    assert_eq!(by_user + by_admin, SESSIONS);
    assert_eq!(totals["ratings"]["count"], json!(SESSIONS));
    assert_eq!(
        totals["ratings"]["distribution"],
        json!({ "1": ratings[0], "2": ratings[1], "3": ratings[2], "4": ratings[3], "5": ratings[4] })
    );
    assert_eq!(
        totals["ratings"]["average"].as_f64().unwrap(),
        ((stars_given as f64 / SESSIONS as f64) * 1000.0).round() / 1000.0
    );
    assert_eq!(
        totals["firstResponseSeconds"]["count"],
        json!(first_responses)
    );
    assert!(first_responses > 0);
    let average = totals["firstResponseSeconds"]["average"].as_f64().unwrap();
    let expected = first_ms as f64 / 1000.0 / first_responses as f64;
    assert!(
        (average - expected).abs() < 0.001,
        "{average} vs {expected}"
    );
    assert_eq!(totals["durationSeconds"]["count"], json!(SESSIONS));
}

/// Each counted change is one transaction; when its answer is lost, the SDK retries it with
/// the same `ClientRequestToken`, DynamoDB (and the local server) applies it once, and so the
/// count moves once.
#[tokio::test]
async fn a_counted_change_retried_by_the_sdk_after_a_lost_answer_is_counted_once() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let proxy = FaultProxy::start(&dynamodb_endpoint()).await;
    let twin = app.twin_through(&proxy.endpoint()).await;
    let lose_next_answer =
        || proxy.set_for(Fault::ResetOnceAfterForwarding, Some("TransactWriteItems"));

    lose_next_answer().await;
    let session = start(&twin, "Bea", true).await;
    lose_next_answer().await;
    twin.user_says(&session, "hi").await;
    lose_next_answer().await;
    twin.agent_replies(&agent, &session.session_id, "hello")
        .await;
    lose_next_answer().await;
    twin.leave(&session).await.data();
    lose_next_answer().await;
    rate(&twin, &session, 4).await.data();
    let transactions = proxy
        .seen()
        .iter()
        .filter(|op| *op == "TransactWriteItems")
        .count();
    assert!(transactions >= 10, "each went twice: {:?}", proxy.seen());

    let totals = summary(&app, &agent, "").await["totals"].clone();
    assert_eq!(
        (
            &totals["sessionsCreated"],
            &totals["guestSessions"],
            &totals["messagesFromUsers"],
            &totals["messagesFromSupport"],
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(
        totals["sessionsEnded"],
        json!({ "byUser": 1, "byAdmin": 0, "idle": 0 })
    );
    assert_eq!(totals["ratings"]["count"], json!(1));
    assert_eq!(totals["ratings"]["average"], json!(4.0));
    assert_eq!(totals["firstResponseSeconds"]["count"], json!(1));
    assert_eq!(totals["durationSeconds"]["count"], json!(1));
}

#[tokio::test]
async fn a_summary_reads_days_times_shards_counter_items_and_nothing_else() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    // Some chats, so the counters exist; their number does not change the cost.
    for name in ["A", "B", "C"] {
        let session = app.start_session(name).await;
        app.user_says(&session, "hi").await;
        app.leave(&session).await.data();
    }
    summary(&app, &agent, "").await; // the agent's record is cached from here on
    app.requests.take();

    let week = summary(&app, &agent, "").await;
    assert_eq!(week["totals"]["sessionsCreated"], json!(3));
    // 7 days x 16 shards = 112 keys, 100 per request: 2 BatchGetItem.
    assert_eq!(7 * usize::from(STATS_SHARDS), 112);
    assert_eq!(app.requests.take(), counts(&[("BatchGetItem", 2)]));

    let today = Utc::now().date_naive();
    let year = summary(
        &app,
        &agent,
        &format!("?from={}&to={today}", today - Duration::days(365)),
    )
    .await;
    assert_eq!(year["days"].as_array().unwrap().len(), 366);
    assert_eq!(year["totals"]["sessionsCreated"], json!(3));
    // 366 days x 16 shards = 5,856 keys, 100 per request: 59 BatchGetItem, no Scan, no Query.
    assert_eq!(366 * usize::from(STATS_SHARDS), 5856);
    assert_eq!(app.requests.take(), counts(&[("BatchGetItem", 59)]));
}

#[tokio::test]
async fn bad_ranges_and_missing_tokens_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    app.user_says(&session, "hi").await;
    let before = app.table_contents().await;
    for (query, field) in [
        ("?from=2026-02-30&to=2026-03-01", "from"),
        ("?from=2026-3-01&to=2026-03-05", "from"),
        ("?from=2026-03-01T00:00:00Z", "from"),
        ("?from=&to=2026-03-05", "from"),
        ("?from=2026-03-01&to=tomorrow", "to"),
        ("?from=2026-03-06&to=2026-03-05", "from"),
        ("?from=2025-03-04&to=2026-03-05", "to"),
        ("?from=1990-01-01&to=2026-03-05", "to"),
        ("?to=0000-01-03", "to"),
    ] {
        let refused = app
            .admin_get(
                &format!("/api/admin/analytics/summary{query}"),
                &agent.token,
            )
            .await;
        refused.assert_error(400, "VALIDATION_ERROR");
        assert_eq!(
            refused.body["error"]["details"]["field"],
            json!(field),
            "{query}"
        );
    }
    app.get("/api/admin/analytics/summary", None)
        .await
        .assert_error(401, "NO_TOKEN");
    app.admin_get("/api/admin/analytics/summary", "not-a-token")
        .await
        .assert_error(401, "AUTH_FAILED");
    assert_eq!(app.table_contents().await, before);
    // 366 days, both ends included, is allowed.
    let longest = summary(&app, &agent, "?from=2025-03-05&to=2026-03-05").await;
    assert_eq!(longest["days"].as_array().unwrap().len(), 366);
}

/// DynamoDB cancels a transaction that meets another one on the same item at that instant
/// (`TransactionConflict`); every counted change shares a daily counter with many sessions, so
/// under real load some will (the local server, one request at a time, never does: the proxy
/// plays it). A start, a send, a reply, a leave and a rating that meet a busy counter are run
/// again and counted once; a start that keeps meeting it answers 503 and stores nothing.
#[tokio::test]
async fn a_change_that_meets_a_busy_counter_is_run_again_and_counted_once() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let proxy = FaultProxy::start(&dynamodb_endpoint()).await;
    let twin = app.twin_through(&proxy.endpoint()).await;
    let busy_counter =
        |times| proxy.set_for(Fault::CounterConflicts(times), Some("TransactWriteItems"));

    busy_counter(2).await;
    let session = start(&twin, "Bea", true).await;
    busy_counter(1).await;
    twin.user_says(&session, "hi").await;
    busy_counter(1).await;
    twin.agent_replies(&agent, &session.session_id, "hello")
        .await;
    busy_counter(3).await;
    twin.leave(&session).await.data();
    busy_counter(1).await;
    rate(&twin, &session, 5).await.data();
    let transactions = proxy
        .seen()
        .iter()
        .filter(|op| *op == "TransactWriteItems")
        .count();
    assert!(
        transactions >= 5 + 8,
        "each conflict was run again: {:?}",
        proxy.seen()
    );

    let totals = summary(&app, &agent, "").await["totals"].clone();
    assert_eq!(
        (
            &totals["sessionsCreated"],
            &totals["messagesFromUsers"],
            &totals["messagesFromSupport"],
            &totals["sessionsEnded"]["byUser"],
            &totals["ratings"]["count"],
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1), &json!(1))
    );
    let transcript_path = format!("/api/admin/chat/messages/{}", session.session_id);
    let transcript = app.admin_get(&transcript_path, &agent.token).await;
    assert_eq!(
        transcript.data()["messages"].as_array().map(Vec::len),
        Some(2)
    );

    // A counter busy through every attempt: 503 with Retry-After, nothing stored or counted.
    let active_before = app.total_active().await;
    busy_counter(100).await;
    let refused = twin
        .create_session(&json!({ "userInfo": { "name": "Cy", "isGuest": true } }))
        .await;
    proxy.set(Fault::None).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "SERVICE_UNAVAILABLE");
    assert!(refused.headers.get("retry-after").is_some());
    assert_eq!(app.total_active().await, active_before);
    let totals = summary(&app, &agent, "").await["totals"].clone();
    assert_eq!(totals["sessionsCreated"], json!(1));
}
