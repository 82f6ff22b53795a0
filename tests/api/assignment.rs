//! Agents work as a team: one holder per session, claimed, transferred and released in one
//! conditional transaction with its log entry; replies claim unassigned sessions and are
//! refused in another agent's (unless forced, and logged); the list filters by holder at the
//! list's own paging and cost.

use chat_core::sign_in::accounts::AdminAccounts;
use chat_core::SystemClock;
use chat_tests::{spawn_app, Agent, ApiResponse, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const CLAIM: &str = "/api/admin/chat/claim";
const TRANSFER: &str = "/api/admin/chat/transfer";
const RELEASE: &str = "/api/admin/chat/release";
const LIST: &str = "/api/admin/chat/active-sessions";

async fn claim(app: &TestApp, agent: &Agent, session_id: &str) -> ApiResponse {
    app.admin_post(CLAIM, &agent.token, &json!({ "sessionId": session_id }))
        .await
}

async fn release(app: &TestApp, agent: &Agent, session_id: &str) -> ApiResponse {
    app.admin_post(RELEASE, &agent.token, &json!({ "sessionId": session_id }))
        .await
}

async fn transfer(app: &TestApp, agent: &Agent, session_id: &str, to: &str) -> ApiResponse {
    let body = json!({ "sessionId": session_id, "toAdminId": to });
    app.admin_post(TRANSFER, &agent.token, &body).await
}

async fn reply(app: &TestApp, agent: &Agent, session_id: &str, force: Option<bool>) -> ApiResponse {
    let mut body = json!({ "sessionId": session_id, "message": "On it", "sender": "admin" });
    if let Some(force) = force {
        body["force"] = json!(force);
    }
    app.admin_post("/api/admin/chat/message", &agent.token, &body)
        .await
}

fn holder(agent: &Agent, name: &str) -> Value {
    json!({ "adminId": agent.admin_id, "name": name })
}

/// The session's log, newest first: (action, adminId, details).
async fn log(app: &TestApp, agent: &Agent, session_id: &str) -> Vec<(String, String, Value)> {
    let path = format!("/api/admin/activity?sessionId={session_id}");
    app.admin_get(&path, &agent.token).await.data()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["adminId"].as_str().unwrap().to_owned(),
                e["details"].clone(),
            )
        })
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

#[tokio::test]
async fn claim_transfer_and_release_move_the_session_between_agents_and_are_logged() {
    let app = spawn_app().await;
    let (ada, bo, cy) = (
        app.sign_up_agent("Ada").await,
        app.sign_up_agent("Bo").await,
        app.sign_up_agent("Cy").await,
    );
    let session = app.start_session("Ann").await;
    let id = session.session_id.as_str();
    for agent in [&ada, &bo, &cy] {
        // Each agent's account read is cached after the first call.
        app.admin_get(LIST, &agent.token).await.data();
    }

    app.requests.take();
    let claimed = claim(&app, &ada, id).await;
    assert_eq!(
        claimed.data(),
        &json!({ "sessionId": id, "assignedTo": holder(&ada, "Ada") })
    );
    assert_eq!(app.requests.take(), counts(&[("TransactWriteItems", 1)]));
    let refused = claim(&app, &bo, id).await;
    refused.assert_error(409, "ALREADY_ASSIGNED");
    assert_eq!(
        refused.body["error"]["details"]["assignedTo"],
        holder(&ada, "Ada")
    );
    // Claiming one's own session again: fine, and nothing new is logged.
    assert_eq!(
        claim(&app, &ada, id).await.data()["assignedTo"],
        holder(&ada, "Ada")
    );
    // Only the holder may hand it on or give it back.
    transfer(&app, &bo, id, &bo.admin_id)
        .await
        .assert_error(409, "ALREADY_ASSIGNED");
    release(&app, &bo, id)
        .await
        .assert_error(409, "ALREADY_ASSIGNED");

    app.requests.take();
    let moved = transfer(&app, &ada, id, &bo.admin_id).await;
    assert_eq!(moved.data()["assignedTo"], holder(&bo, "Bo"));
    let transfer_cost = counts(&[("GetItem", 1), ("TransactWriteItems", 1)]);
    assert_eq!(
        app.requests.take(),
        transfer_cost,
        "the target, then one transaction"
    );
    claim(&app, &ada, id)
        .await
        .assert_error(409, "ALREADY_ASSIGNED");
    app.requests.take();
    let released = release(&app, &bo, id).await;
    assert_eq!(
        released.data(),
        &json!({ "sessionId": id, "assignedTo": null })
    );
    assert_eq!(app.requests.take(), counts(&[("TransactWriteItems", 1)]));
    // Releasing a session nobody holds changes (and logs) nothing.
    assert_eq!(
        release(&app, &cy, id).await.data()["assignedTo"],
        Value::Null
    );

    let entries = log(&app, &ada, id).await;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|(a, by, _)| (a.as_str(), by.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("RELEASED_SESSION", bo.admin_id.as_str()),
            ("TRANSFERRED_SESSION", ada.admin_id.as_str()),
            ("CLAIMED_SESSION", ada.admin_id.as_str()),
        ]
    );
    assert_eq!(entries[1].2["toAdminId"], bo.admin_id.as_str());

    // Anyone may transfer a session nobody holds; the target must be an active agent.
    AdminAccounts::new(app.chat.store(), &SystemClock)
        .set_active(&cy.email, false)
        .await
        .unwrap();
    transfer(&app, &ada, id, &cy.admin_id)
        .await
        .assert_error(400, "INVALID_ADMIN");
    transfer(&app, &ada, id, "adm_nobody_has_this_id")
        .await
        .assert_error(400, "INVALID_ADMIN");
    let agents = app.admin_get("/api/admin/agents", &ada.token).await;
    assert_eq!(
        agents.data(),
        &json!({ "agents": [holder(&ada, "Ada"), holder(&bo, "Bo")] }),
        "active agents only, no emails"
    );
    let handed = transfer(&app, &bo, id, &ada.admin_id).await;
    assert_eq!(handed.data()["assignedTo"], holder(&ada, "Ada"));

    // Ended or unknown sessions: 404 from each.
    app.leave(&session).await.data();
    for response in [
        claim(&app, &bo, id).await,
        release(&app, &ada, id).await,
        transfer(&app, &ada, id, &bo.admin_id).await,
        claim(&app, &bo, "chat_no_such_session").await,
    ] {
        response.assert_error(404, "SESSION_NOT_FOUND");
    }
    assert_eq!(log(&app, &ada, id).await.len(), 4, "refusals log nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_agents_claiming_at_once_exactly_one_wins() {
    let app = Arc::new(spawn_app().await);
    let mut agents = Vec::new();
    for i in 0..8 {
        agents.push(app.sign_up_agent(&format!("Agent {i}")).await);
    }
    let session = app.start_session("Ann").await;
    let claims: Vec<_> = agents
        .iter()
        .map(|agent| {
            let (app, agent, id) = (app.clone(), agent.clone(), session.session_id.clone());
            tokio::spawn(async move { claim(&app, &agent, &id).await })
        })
        .collect();
    let mut answers = Vec::new();
    for claim in claims {
        answers.push(claim.await.unwrap());
    }
    let winners: Vec<&ApiResponse> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    let winner = winners[0].data()["assignedTo"].clone();
    for loser in answers.iter().filter(|a| a.status != 200) {
        loser.assert_error(409, "ALREADY_ASSIGNED");
        assert_eq!(loser.body["error"]["details"]["assignedTo"], winner);
    }
    let entries = log(&app, &agents[0], &session.session_id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (entries[0].0.as_str(), entries[0].1.as_str()),
        ("CLAIMED_SESSION", winner["adminId"].as_str().unwrap())
    );
}

#[tokio::test]
async fn a_reply_claims_a_free_session_and_needs_force_in_another_agents() {
    let app = spawn_app().await;
    let (ada, bo) = (
        app.sign_up_agent("Ada").await,
        app.sign_up_agent("Bo").await,
    );
    let session = app.start_session("Ann").await;
    let id = session.session_id.as_str();
    // Each agent's account read is cached after the first call.
    app.admin_get(LIST, &ada.token).await.data();
    app.admin_get(LIST, &bo.token).await.data();

    app.requests.take();
    reply(&app, &ada, id, None).await.data();
    let send_cost = counts(&[("GetItem", 1), ("TransactWriteItems", 1)]);
    assert_eq!(
        app.requests.take(),
        send_cost,
        "claiming costs no extra request"
    );
    let list = app.admin_get(LIST, &ada.token).await;
    assert_eq!(
        list.data()["sessions"][0]["assignedTo"],
        holder(&ada, "Ada")
    );

    let refused = reply(&app, &bo, id, None).await;
    refused.assert_error(409, "ALREADY_ASSIGNED");
    assert_eq!(
        refused.body["error"]["details"]["assignedTo"],
        holder(&ada, "Ada")
    );
    reply(&app, &bo, id, Some(false))
        .await
        .assert_error(409, "ALREADY_ASSIGNED");
    assert_eq!(app.transcript(id).await.messages.len(), 1, "nothing sent");

    app.requests.take();
    reply(&app, &bo, id, Some(true)).await.data();
    assert_eq!(app.requests.take(), send_cost);
    reply(&app, &ada, id, None).await.data();
    assert_eq!(app.transcript(id).await.messages.len(), 3);
    assert_eq!(
        claim(&app, &bo, id).await.body["error"]["details"]["assignedTo"],
        holder(&ada, "Ada"),
        "a forced reply does not take the session"
    );

    let entries = log(&app, &ada, id).await;
    let details: Vec<(&str, Value)> = entries
        .iter()
        .map(|(action, by, details)| {
            assert_eq!(action, "SENT_MESSAGE");
            let mut details = details.clone();
            details.as_object_mut().unwrap().remove("messageId");
            (by.as_str(), details)
        })
        .collect();
    assert_eq!(
        details,
        [
            (ada.admin_id.as_str(), json!({})),
            (
                bo.admin_id.as_str(),
                json!({ "forced": true, "assignedTo": holder(&ada, "Ada") })
            ),
            (ada.admin_id.as_str(), json!({ "claimed": true })),
        ]
    );
}

/// Every page of a listing: its session ids, and checks what each page cost: two requests
/// (keys, then sessions), except the later pages of a list every agent reads, which come from
/// the head of the list that its first page read (one request: the sessions).
async fn pages(app: &TestApp, agent: &Agent, query: &str) -> (Vec<String>, Vec<Value>) {
    let (mut ids, mut rows) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    let one_agents = query.contains("assignedTo=me");
    for _ in 0..20 {
        let path = match &cursor {
            Some(c) => format!("{LIST}?{query}&cursor={c}"),
            None => format!("{LIST}?{query}"),
        };
        let expected = match (&cursor, one_agents) {
            (Some(_), false) => counts(&[("BatchGetItem", 1)]),
            _ => counts(&[("Query", 1), ("BatchGetItem", 1)]),
        };
        app.requests.take();
        let page = app.admin_get(&path, &agent.token).await.data().clone();
        assert_eq!(app.requests.take(), expected, "{query}: {path}");
        for row in page["sessions"].as_array().unwrap() {
            ids.push(row["sessionId"].as_str().unwrap().to_owned());
            rows.push(row.clone());
        }
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return (ids, rows);
        }
    }
    panic!("more than 20 pages");
}

#[tokio::test]
async fn mine_and_unassigned_page_like_the_list_and_keep_their_cursors() {
    let app = spawn_app().await;
    let (ada, bo) = (
        app.sign_up_agent("Ada").await,
        app.sign_up_agent("Bo").await,
    );
    let mut sessions = Vec::new();
    for i in 0..9 {
        sessions.push(app.start_session(&format!("Customer {i}")).await);
    }
    for i in [0, 2, 4, 7] {
        claim(&app, &ada, &sessions[i].session_id).await.data();
    }
    reply(&app, &bo, &sessions[1].session_id, None).await.data();
    // Released sessions are free again; ended ones leave every list.
    release(&app, &ada, &sessions[7].session_id).await.data();
    app.leave(&sessions[4]).await.data();
    app.leave(&sessions[5]).await.data();

    let (all, rows) = pages(&app, &ada, "limit=3").await;
    let order_of = |wanted: &[usize]| -> Vec<String> {
        let wanted: Vec<&String> = wanted.iter().map(|&i| &sessions[i].session_id).collect();
        all.iter()
            .filter(|id| wanted.contains(id))
            .cloned()
            .collect()
    };
    let by_id: BTreeMap<&str, &Value> = all.iter().map(String::as_str).zip(&rows).collect();
    assert_eq!(
        by_id[sessions[0].session_id.as_str()]["assignedTo"],
        holder(&ada, "Ada")
    );
    assert_eq!(
        by_id[sessions[1].session_id.as_str()]["assignedTo"],
        holder(&bo, "Bo")
    );
    assert_eq!(
        by_id[sessions[7].session_id.as_str()]["assignedTo"],
        Value::Null
    );

    let (mine, mine_rows) = pages(&app, &ada, "limit=1&assignedTo=me").await;
    assert_eq!(mine, order_of(&[0, 2]), "newest first, as the list");
    assert!(mine_rows
        .iter()
        .all(|r| r["assignedTo"] == holder(&ada, "Ada")));
    assert_eq!(pages(&app, &bo, "assignedTo=me").await.0, order_of(&[1]));
    let (free, free_rows) = pages(&app, &ada, "limit=2&assignedTo=none").await;
    assert_eq!(free, order_of(&[3, 6, 7, 8]));
    assert!(free_rows.iter().all(|r| r["assignedTo"].is_null()));

    // A cursor continues only the list that issued it: not the plain list, not another
    // agent's "mine".
    let first = app
        .admin_get(&format!("{LIST}?limit=1&assignedTo=me"), &ada.token)
        .await;
    let cursor = first.data()["nextCursor"].as_str().unwrap().to_owned();
    for (agent, query) in [
        (&ada, format!("cursor={cursor}")),
        (&ada, format!("assignedTo=none&cursor={cursor}")),
        (&bo, format!("assignedTo=me&cursor={cursor}")),
        (&ada, "assignedTo=everyone".to_owned()),
        (&ada, "assignedTo=me&waiting=true".to_owned()),
    ] {
        app.requests.take();
        app.admin_get(&format!("{LIST}?{query}"), &agent.token)
            .await
            .assert_error(400, "VALIDATION_ERROR");
        assert_eq!(
            app.requests.take().get("Query"),
            None,
            "{query}: nothing read"
        );
    }
}

#[tokio::test]
async fn refused_team_requests_store_nothing() {
    let app = spawn_app().await;
    let (ada, bo) = (
        app.sign_up_agent("Ada").await,
        app.sign_up_agent("Bo").await,
    );
    let session = app.start_session("Ann").await;
    let id = session.session_id.as_str();
    claim(&app, &ada, id).await.data();
    let before = app.table_contents().await;

    let refused = [
        (CLAIM, json!({}), 400, "VALIDATION_ERROR"),
        (
            CLAIM,
            json!({ "sessionId": "bad id" }),
            400,
            "VALIDATION_ERROR",
        ),
        (RELEASE, json!({ "sessionId": 42 }), 400, "VALIDATION_ERROR"),
        (
            TRANSFER,
            json!({ "sessionId": id }),
            400,
            "VALIDATION_ERROR",
        ),
        (
            TRANSFER,
            json!({ "sessionId": id, "toAdminId": "x" }),
            400,
            "VALIDATION_ERROR",
        ),
        (
            TRANSFER,
            json!({ "sessionId": id, "toAdminId": "adm_unknown" }),
            400,
            "INVALID_ADMIN",
        ),
        (
            CLAIM,
            json!({ "sessionId": "chat_no_such_session" }),
            404,
            "SESSION_NOT_FOUND",
        ),
        (CLAIM, json!({ "sessionId": id }), 409, "ALREADY_ASSIGNED"),
        (RELEASE, json!({ "sessionId": id }), 409, "ALREADY_ASSIGNED"),
        (
            TRANSFER,
            json!({ "sessionId": id, "toAdminId": bo.admin_id }),
            409,
            "ALREADY_ASSIGNED",
        ),
        (
            "/api/admin/chat/message",
            json!({ "sessionId": id, "message": "hi", "sender": "admin", "force": "yes" }),
            400,
            "INVALID_MESSAGE_DATA",
        ),
        (
            "/api/admin/chat/message",
            json!({ "sessionId": id, "message": "hi", "sender": "admin" }),
            409,
            "ALREADY_ASSIGNED",
        ),
    ];
    for (path, body, status, code) in refused {
        app.admin_post(path, &bo.token, &body)
            .await
            .assert_error(status, code);
    }
    app.request(
        "POST",
        CLAIM,
        &[("authorization", &format!("Bearer {}", bo.token))],
        "not json",
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        app.table_contents().await,
        before,
        "a refused request changed the table"
    );
}
