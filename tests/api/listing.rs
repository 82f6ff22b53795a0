//! The agents' list stays complete and cheap: two requests per page whatever the number of
//! active sessions (a Query for keys, a BatchGetItem for those sessions and the counter), an exact total, paging that visits each session once, the waiting
//! customers longest first, and cursors that only ever continue the list that issued them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_tests::{spawn_app, Agent, TestApp};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

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
async fn paging_visits_every_active_session_once_at_two_requests_a_page() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let mut started = Vec::new();
    for i in 0..120 {
        started.push(app.start_session(&format!("Customer {i}")).await);
    }
    // Some customers wait for an answer, in a known order; one of them got it.
    for session in [&started[70], &started[3], &started[111], &started[40]] {
        app.user_says(session, "hello?").await;
    }
    app.agent_replies(&agent, &started[111].session_id, "Hi!")
        .await;
    app.leave(&started[0]).await.data();

    let pages = all_pages(&app, &agent, "limit=25").await;
    assert_eq!(pages.len(), 5);
    let mut seen = Vec::new();
    for (page, cost) in &pages {
        assert_eq!(page["totalActive"], 119, "exact on every page");
        assert_eq!(
            *cost,
            counts(&[("Query", 1), ("BatchGetItem", 1)]),
            "2 requests a page"
        );
        seen.extend(ids(page));
    }
    let expected: BTreeSet<String> = started[1..].iter().map(|s| s.session_id.clone()).collect();
    assert_eq!(seen.len(), 119, "no session twice");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected);

    // Only the waiting ones, longest wait first, paged the same way.
    let pages = all_pages(&app, &agent, "limit=2&waiting=true").await;
    let waiting: Vec<String> = pages.iter().flat_map(|(page, _)| ids(page)).collect();
    let expected: Vec<String> = [&started[70], &started[3], &started[40]]
        .iter()
        .map(|s| s.session_id.clone())
        .collect();
    assert_eq!(waiting, expected);
    for (page, cost) in &pages {
        assert_eq!(page["totalActive"], 119);
        assert_eq!(*cost, counts(&[("Query", 1), ("BatchGetItem", 1)]));
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
