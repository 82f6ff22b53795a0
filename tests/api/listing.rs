//! The agents' list stays complete and cheap: two requests per page whatever the number of
//! active sessions (a Query for keys, a BatchGetItem for those sessions and the counter), an
//! exact total, paging that visits each session once, the waiting customers longest first,
//! cursors that only ever continue the list that issued them, and the head of each shared
//! list (its first keys) read once a second per instance, not once per dashboard.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::ManualClock;
use chat_tests::{spawn_app, spawn_app_at, Agent, TestApp};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

/// Every page of a listing, with what each page cost.
async fn all_pages(
    app: &TestApp,
    agent: &Agent,
    query: &str,
) -> Vec<(Value, BTreeMap<String, u64>)> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let path = match &cursor {
            Some(c) => format!("/api/admin/chat/active-sessions?{query}&cursor={c}"),
            None => format!("/api/admin/chat/active-sessions?{query}"),
        };
        app.requests.take();
        let page = app.admin_get(&path, &agent.token).await.data().clone();
        let cost = app.requests.take();
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        pages.push((page, cost));
        if cursor.is_none() {
            return pages;
        }
    }
    panic!("more than 50 pages");
}

fn ids(page: &Value) -> Vec<String> {
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_visits_every_active_session_once_at_two_requests_a_page_at_most() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let mut started = Vec::new();
    for i in 0..210 {
        started.push(app.start_session(&format!("Customer {i}")).await);
    }
    // Some customers wait for an answer, in a known order; one of them got it.
    for session in [&started[70], &started[3], &started[111], &started[40]] {
        app.user_says(session, "hello?").await;
    }
    app.agent_replies(&agent, &started[111].session_id, "Hi!")
        .await;
    app.leave(&started[0]).await.data();

    // The first page reads the list's head (its first 198 keys) and the page's sessions; a
    // page inside the head reads only its sessions; a page reaching past it reads its keys.
    let pages = all_pages(&app, &agent, "limit=50").await;
    assert_eq!(pages.len(), 5);
    let (keys_and_sessions, sessions) = (
        counts(&[("Query", 1), ("BatchGetItem", 1)]),
        counts(&[("BatchGetItem", 1)]),
    );
    let costs: Vec<_> = pages.iter().map(|(_, cost)| cost.clone()).collect();
    assert_eq!(
        costs,
        [
            keys_and_sessions.clone(),
            sessions.clone(),
            sessions,
            keys_and_sessions.clone(),
            keys_and_sessions
        ]
    );
    let mut seen = Vec::new();
    for (page, _) in &pages {
        assert_eq!(page["totalActive"], 209, "exact on every page");
        seen.extend(ids(page));
    }
    let expected: BTreeSet<String> = started[1..].iter().map(|s| s.session_id.clone()).collect();
    assert_eq!(seen.len(), 209, "no session twice");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected);

    // Only the waiting ones, longest wait first, paged the same way.
    let pages = all_pages(&app, &agent, "limit=2&waiting=true").await;
    let waiting: Vec<String> = pages.iter().flat_map(|(page, _)| ids(page)).collect();
    let expected: Vec<String> = [&started[70], &started[3], &started[40]]
        .iter()
        .map(|s| s.session_id.clone())
        .collect();
    assert_eq!(waiting, expected);
    assert_eq!(pages[0].1, counts(&[("Query", 1), ("BatchGetItem", 1)]));
    assert_eq!(
        pages[1].1,
        counts(&[("BatchGetItem", 1)]),
        "inside the head"
    );
    for (page, _) in &pages {
        assert_eq!(page["totalActive"], 209);
        assert!(page["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["waitingSince"].is_string()));
    }
}

fn encode(value: Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn a_cursor_this_list_never_issued_is_refused_and_reads_nothing() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let mut sessions = Vec::new();
    for i in 0..3 {
        let session = app.start_session(&format!("Customer {i}")).await;
        app.user_says(&session, "hi").await;
        sessions.push(session);
    }
    let id = &sessions[0].session_id;
    let real = app
        .admin_get("/api/admin/chat/active-sessions?limit=1", &agent.token)
        .await
        .data()["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let waiting = app
        .admin_get(
            "/api/admin/chat/active-sessions?limit=1&waiting=true",
            &agent.token,
        )
        .await
        .data()["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.table_contents().await;

    let forged = [
        encode(json!({ "PK": "x" })),
        encode(json!({ "PK": format!("SESSION#{id}"), "SK": "SESSION" })),
        encode(json!({ "PK": format!("SESSION#{id}"), "SK": "SESSION",
                       "GSI1PK": "ACTIVE", "GSI1SK": "2026-01-01T00:00:00.000Z#someone-else" })),
        encode(json!({ "PK": format!("SESSION#{id}"), "SK": "SESSION",
                       "GSI1PK": "ADMIN", "GSI1SK": format!("x#{id}") })),
        encode(json!({ "PK": format!("SESSION#{id}"), "SK": "SESSION",
                       "GSI1PK": "ACTIVE", "GSI1SK": format!("x#{id}"), "extra": "1" })),
        encode(json!({ "PK": 1, "SK": 2 })),
        encode(json!(["PK", "SK"])),
        "not~base64~at~all".to_owned(),
        waiting.clone(),
    ];
    app.requests.take();
    for cursor in &forged {
        let path = format!("/api/admin/chat/active-sessions?cursor={cursor}");
        app.admin_get(&path, &agent.token)
            .await
            .assert_error(400, "VALIDATION_ERROR");
    }
    // A list's cursor on the waiting list, and on the activity log.
    app.admin_get(
        &format!("/api/admin/chat/active-sessions?waiting=true&cursor={real}"),
        &agent.token,
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
    app.admin_get(&format!("/api/admin/activity?cursor={real}"), &agent.token)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    assert_eq!(app.requests.take(), counts(&[]), "refused before any read");
    assert_eq!(app.table_contents().await, before);

    // The real ones still work.
    for (query, cursor) in [("", &real), ("&waiting=true", &waiting)] {
        let path = format!("/api/admin/chat/active-sessions?cursor={cursor}{query}");
        app.admin_get(&path, &agent.token).await.data();
    }
}

#[tokio::test]
async fn dashboards_share_the_head_of_the_queue_for_a_second_yet_never_show_an_answered_chat() {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_at(Arc::new(clock.clone()), |_| {}).await;
    let (sam, kim) = (
        app.sign_up_agent("Sam").await,
        app.sign_up_agent("Kim").await,
    );
    let ann = app.start_session("Ann").await;
    app.user_says(&ann, "hello?").await;
    clock.advance(Duration::milliseconds(100));
    let bob = app.start_session("Bob").await;
    app.user_says(&bob, "anyone there?").await;
    let queue = "/api/admin/chat/active-sessions?waiting=true&limit=50";
    let read = [("Query", 1), ("BatchGetItem", 1)];
    let mine = "/api/admin/chat/active-sessions?assignedTo=me";
    for agent in [&sam, &kim] {
        app.admin_get(mine, &agent.token).await.data();
    }

    // Sam's dashboard reads the queue: its keys from the WAITING index, then the sessions.
    app.requests.take();
    let page = app.admin_get(queue, &sam.token).await.data().clone();
    assert_eq!(
        ids(&page),
        [ann.session_id.as_str(), bob.session_id.as_str()]
    );
    assert_eq!(app.requests.take(), counts(&read));

    // Half a second later Carl starts waiting and Kim answers Ann.
    clock.advance(Duration::milliseconds(500));
    let carl = app.start_session("Carl").await;
    app.user_says(&carl, "help").await;
    app.agent_replies(&kim, ann.session_id.as_str(), "Hi Ann")
        .await;

    // Kim's dashboard gets the same first page of keys without reading the index; the
    // sessions are read afresh, so Ann (answered) is gone at once and the count is exact.
    // Carl is not listed yet.
    app.requests.take();
    let page = app.admin_get(queue, &kim.token).await.data().clone();
    assert_eq!(ids(&page), [bob.session_id.as_str()]);
    assert_eq!(page["totalActive"], 3);
    assert_eq!(app.requests.take(), counts(&[("BatchGetItem", 1)]));

    // A second after the keys were read they are read again: Carl is listed.
    clock.advance(Duration::milliseconds(500));
    let page = app.admin_get(queue, &sam.token).await.data().clone();
    assert_eq!(
        ids(&page),
        [bob.session_id.as_str(), carl.session_id.as_str()]
    );
    assert_eq!(app.requests.take(), counts(&read));

    // A later page inside the head is served from it too; one agent's own list is read afresh
    // every time: what Kim just took is in Kim's list at once.
    let second_page = format!(
        "/api/admin/chat/active-sessions?waiting=true&limit=1&cursor={}",
        app.admin_get(
            "/api/admin/chat/active-sessions?waiting=true&limit=1",
            &sam.token
        )
        .await
        .data()["nextCursor"]
            .as_str()
            .unwrap()
    );
    for _ in 0..2 {
        app.requests.take();
        let page = app.admin_get(&second_page, &sam.token).await.data().clone();
        assert_eq!(ids(&page), [carl.session_id.as_str()]);
        assert_eq!(app.requests.take(), counts(&[("BatchGetItem", 1)]));
        let page = app.admin_get(mine, &kim.token).await.data().clone();
        assert_eq!(ids(&page), [ann.session_id.as_str()]);
        assert_eq!(app.requests.take(), counts(&read));
    }
    app.agent_replies(&kim, bob.session_id.as_str(), "Hi Bob")
        .await;
    let page = app.admin_get(mine, &kim.token).await.data().clone();
    assert_eq!(
        ids(&page),
        [bob.session_id.as_str(), ann.session_id.as_str()],
        "newest first"
    );
}
