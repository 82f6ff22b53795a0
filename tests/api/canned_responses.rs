//! The team's canned replies: CRUD, unique shortcuts (also under racing creates), bad input,
//! the cap, the activity log and the cost of a listing.

use bytes::Bytes;
use chat_tests::{spawn_app, Agent, ApiResponse, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const PATH: &str = "/api/admin/canned-responses";

async fn call(
    app: &TestApp,
    agent: &Agent,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> ApiResponse {
    let bearer = format!("Bearer {}", agent.token);
    let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    app.request(method, path, &[("authorization", &bearer)], body)
        .await
}

async fn create(app: &TestApp, agent: &Agent, shortcut: &str, text: &str) -> ApiResponse {
    call(
        app,
        agent,
        "POST",
        PATH,
        Some(json!({ "shortcut": shortcut, "text": text })),
    )
    .await
}

async fn list(app: &TestApp, agent: &Agent) -> Vec<(String, String)> {
    call(app, agent, "GET", PATH, None).await.data()["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["shortcut"].as_str().unwrap().to_owned(),
                r["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_team_shares_canned_replies_and_every_change_is_logged() {
    let app = spawn_app().await;
    let ann = app.sign_up_agent("Ann").await;
    let bo = app.sign_up_agent("Bo").await;
    assert!(list(&app, &ann).await.is_empty());

    let created = create(&app, &ann, "greet", "  Hello! How can I help?  ").await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(created.data()["text"], "Hello! How can I help?");
    assert_eq!(created.data()["updatedBy"], ann.admin_id.as_str());
    create(&app, &ann, "refund", "Refunds take 5 days.")
        .await
        .data();
    // Shared: the other agent sees both, by shortcut. (Bo's account is checked, and cached,
    // by the first call.)
    list(&app, &bo).await;
    app.requests.take();
    assert_eq!(
        list(&app, &bo).await,
        pairs(&[
            ("greet", "Hello! How can I help?"),
            ("refund", "Refunds take 5 days.")
        ])
    );
    assert_eq!(
        app.requests.take(),
        BTreeMap::from([("Query".to_owned(), 1)]),
        "listing is one Query"
    );

    // Bo renames and rewrites it; the old shortcut is free again, the new one is taken.
    let updated = call(
        &app,
        &bo,
        "PUT",
        &format!("{PATH}/{id}"),
        Some(json!({ "shortcut": "hello", "text": "Hi there!" })),
    )
    .await;
    assert_eq!(updated.data()["id"], id.as_str());
    assert_eq!(updated.data()["updatedBy"], bo.admin_id.as_str());
    let before = app.table_contents().await;
    create(&app, &ann, "hello", "again")
        .await
        .assert_error(409, "SHORTCUT_TAKEN");
    call(
        &app,
        &ann,
        "PUT",
        &format!("{PATH}/{id}"),
        Some(json!({ "shortcut": "refund", "text": "x" })),
    )
    .await
    .assert_error(409, "SHORTCUT_TAKEN");
    assert_eq!(
        app.table_contents().await,
        before,
        "a refused change stores nothing"
    );
    create(&app, &ann, "greet", "Good morning!").await.data();
    assert_eq!(
        list(&app, &ann).await,
        pairs(&[
            ("greet", "Good morning!"),
            ("hello", "Hi there!"),
            ("refund", "Refunds take 5 days.")
        ])
    );

    let deleted = call(&app, &ann, "DELETE", &format!("{PATH}/{id}"), None).await;
    assert_eq!(deleted.data()["deleted"], true);
    call(&app, &ann, "DELETE", &format!("{PATH}/{id}"), None)
        .await
        .assert_error(404, "CANNED_RESPONSE_NOT_FOUND");
    call(
        &app,
        &ann,
        "PUT",
        &format!("{PATH}/{id}"),
        Some(json!({ "shortcut": "hello", "text": "x" })),
    )
    .await
    .assert_error(404, "CANNED_RESPONSE_NOT_FOUND");
    // Its shortcut is free again.
    create(&app, &bo, "hello", "Hello again").await.data();

    let log = app
        .admin_get(
            &format!("/api/admin/activity?adminId={}", bo.admin_id),
            &bo.token,
        )
        .await;
    let actions: Vec<&str> = log.data()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["CREATED_CANNED_RESPONSE", "UPDATED_CANNED_RESPONSE"]
    );
    let log = app
        .admin_get(
            &format!("/api/admin/activity?adminId={}", ann.admin_id),
            &ann.token,
        )
        .await;
    assert_eq!(
        log.data()["entries"][0]["action"],
        "DELETED_CANNED_RESPONSE"
    );
    assert_eq!(log.data()["entries"][0]["details"]["shortcut"], "hello");

    // The log pages through these entries too: a cursor on one is one the log issued.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = app
            .admin_get(
                &format!("/api/admin/activity?adminId={}&limit=1{after}", bo.admin_id),
                &bo.token,
            )
            .await;
        let data = page.data();
        paged.extend(
            data["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_owned()),
        );
        match data["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        paged,
        ["CREATED_CANNED_RESPONSE", "UPDATED_CANNED_RESPONSE"]
    );
}

#[tokio::test]
async fn bad_canned_replies_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Ann").await;
    let id = create(&app, &agent, "greet", "Hello").await.data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.table_contents().await;
    let bodies = [
        (json!({ "text": "hi" }), "shortcut"),
        (json!({ "shortcut": "Greet", "text": "hi" }), "shortcut"),
        (
            json!({ "shortcut": "with space", "text": "hi" }),
            "shortcut",
        ),
        (
            json!({ "shortcut": "a".repeat(33), "text": "hi" }),
            "shortcut",
        ),
        (json!({ "shortcut": 7, "text": "hi" }), "shortcut"),
        (json!({ "shortcut": "ok" }), "text"),
        (json!({ "shortcut": "ok", "text": "   " }), "text"),
        (json!({ "shortcut": "ok", "text": "a\u{7}b" }), "text"),
        (
            json!({ "shortcut": "ok", "text": "x".repeat(2_001) }),
            "text",
        ),
    ];
    for (body, field) in bodies {
        for (method, path) in [("POST", PATH.to_owned()), ("PUT", format!("{PATH}/{id}"))] {
            let answer = call(&app, &agent, method, &path, Some(body.clone())).await;
            answer.assert_error(400, "VALIDATION_ERROR");
            assert_eq!(
                answer.body["error"]["details"]["field"], field,
                "{method} {body}"
            );
        }
    }
    let raw = app
        .request(
            "POST",
            PATH,
            &[("authorization", &format!("Bearer {}", agent.token))],
            "[1]",
        )
        .await;
    raw.assert_error(400, "VALIDATION_ERROR");
    for path in [format!("{PATH}/not-an-id"), format!("{PATH}/cr_XYZ")] {
        call(
            &app,
            &agent,
            "PUT",
            &path,
            Some(json!({ "shortcut": "ok", "text": "hi" })),
        )
        .await
        .assert_error(400, "VALIDATION_ERROR");
        call(&app, &agent, "DELETE", &path, None)
            .await
            .assert_error(400, "VALIDATION_ERROR");
    }
    let unknown = format!("{PATH}/cr_0000000000000000");
    call(&app, &agent, "DELETE", &unknown, None)
        .await
        .assert_error(404, "CANNED_RESPONSE_NOT_FOUND");
    app.request("GET", PATH, &[], Bytes::new())
        .await
        .assert_error(401, "NO_TOKEN");
    app.request(
        "POST",
        PATH,
        &[],
        json!({"shortcut": "ok", "text": "hi"}).to_string(),
    )
    .await
    .assert_error(401, "NO_TOKEN");
    assert_eq!(app.table_contents().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_shortcut_store_exactly_one() {
    let app = Arc::new(spawn_app().await);
    let agents = [
        app.sign_up_agent("Ann").await,
        app.sign_up_agent("Bo").await,
    ];
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (app, agent) = (app.clone(), agents[i % 2].clone());
            tokio::spawn(async move { create(&app, &agent, "same", &format!("text {i}")).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        if answer.status != 200 {
            answer.assert_error(409, "SHORTCUT_TAKEN");
        }
        statuses.push(answer.status);
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(list(&app, &agents[0]).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_team_has_at_most_100_canned_replies() {
    let app = Arc::new(spawn_app().await);
    let agent = app.sign_up_agent("Ann").await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (app, agent) = (app.clone(), agent.clone());
            tokio::spawn(async move { create(&app, &agent, &format!("r{i}"), "text").await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().data();
    }
    let before = app.table_contents().await;
    create(&app, &agent, "one-more", "text")
        .await
        .assert_error(409, "TOO_MANY_CANNED_RESPONSES");
    assert_eq!(app.table_contents().await, before);
    assert_eq!(list(&app, &agent).await.len(), 100);
    // Deleting one makes room for one.
    let listed = call(&app, &agent, "GET", PATH, None).await;
    let id = listed.data()["responses"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(&app, &agent, "DELETE", &format!("{PATH}/{id}"), None)
        .await
        .data();
    create(&app, &agent, "one-more", "text").await.data();
}
