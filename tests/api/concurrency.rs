//! Exactly-once delivery under concurrent writers, and state changes that race.

use chat_tests::{spawn_app, Agent, TestApp};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn reply(
    app: &TestApp,
    agent: &Agent,
    session_id: &str,
    text: String,
) -> chat_tests::ApiResponse {
    app.admin_post(
        "/api/admin/chat/message",
        &agent.token,
        // Several agents in one session: the first reply claims it, the others reply anyway.
        &json!({ "sessionId": session_id, "message": text, "sender": "admin", "force": true }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_agents_replying_at_once_reach_the_polling_client_exactly_once_in_order() {
    const AGENTS: usize = 3;
    const REPLIES: usize = 30;
    let app = Arc::new(spawn_app().await);
    let session = app.start_session("Ann").await;
    let mut agents = Vec::new();
    for name in ["Ada", "Bo", "Cy"] {
        agents.push(app.sign_up_agent(name).await);
    }
    app.requests.take();

    let writers: Vec<_> = agents
        .iter()
        .enumerate()
        .map(|(n, agent)| {
            let (app, agent, session_id) = (app.clone(), agent.clone(), session.session_id.clone());
            tokio::spawn(async move {
                for i in 0..REPLIES {
                    reply(&app, &agent, &session_id, format!("agent {n} reply {i}"))
                        .await
                        .data();
                }
            })
        })
        .collect();

    // The client polls the whole time, always with the last id it has seen.
    let mut received: Vec<serde_json::Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    while received.len() < AGENTS * REPLIES && Instant::now() < deadline {
        let polled = app
            .poll(&session.session_id, Some(&session.token), cursor.as_deref())
            .await;
        let messages = polled.data()["messages"].as_array().unwrap().clone();
        if let Some(last) = messages.last() {
            cursor = Some(last["messageId"].as_str().unwrap().to_owned());
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        received.extend(messages);
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let trailing = app
        .poll(&session.session_id, Some(&session.token), cursor.as_deref())
        .await;
    received.extend(trailing.data()["messages"].as_array().unwrap().clone());

    // Conflicts did happen: more transactions were tried than committed.
    let attempts = app.requests.snapshot();
    eprintln!(
        "DynamoDB requests for {} replies and the polls: {attempts:?}",
        AGENTS * REPLIES
    );
    assert!(
        attempts["TransactWriteItems"] > (AGENTS * REPLIES) as u64,
        "the writers really raced"
    );
    assert_eq!(received.len(), AGENTS * REPLIES, "every reply exactly once");
    let ids: Vec<&str> = received
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "no duplicates"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in commit order");
    let transcript = app.transcript(&session.session_id).await;
    let stored: Vec<String> = transcript
        .messages
        .iter()
        .map(|m| m.message_id.to_string())
        .collect();
    assert_eq!(
        ids, stored,
        "the poller saw the transcript, in transcript order"
    );
    for (n, agent) in agents.iter().enumerate() {
        let own: Vec<&str> = transcript
            .messages
            .iter()
            .filter(|m| m.admin_id.as_deref() == Some(agent.admin_id.as_str()))
            .map(|m| m.message.as_str())
            .collect();
        let expected: Vec<String> = (0..REPLIES)
            .map(|i| format!("agent {n} reply {i}"))
            .collect();
        assert_eq!(
            own, expected,
            "each agent's replies, attributed to it, in the order it sent them"
        );
    }
}

/// Sends from three agents while the session is ended (by the client or by an agent).
async fn sends_racing_an_end(end_by_agent: bool) {
    let app = Arc::new(spawn_app().await);
    let session = app.start_session("Ann").await;
    let mut agents = Vec::new();
    for name in ["Ada", "Bo", "Cy"] {
        agents.push(app.sign_up_agent(name).await);
    }
    let writers: Vec<_> = agents
        .iter()
        .enumerate()
        .map(|(n, agent)| {
            let (app, agent, session_id) = (app.clone(), agent.clone(), session.session_id.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..20 {
                    outcomes.push(
                        reply(&app, &agent, &session_id, format!("agent {n} reply {i}")).await,
                    );
                }
                outcomes
            })
        })
        .collect();
    // End while the writers are mid-way: once some replies have landed (not after a fixed
    // sleep, which a loaded machine can make too short or too long).
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.transcript(&session.session_id).await.messages.len() < 3 {
        assert!(Instant::now() < deadline, "no reply landed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ended = if end_by_agent {
        app.admin_post(
            "/api/admin/chat/session/end",
            &agents[0].token,
            &json!({ "sessionId": session.session_id }),
        )
        .await
    } else {
        app.leave(&session).await
    };
    let end_time = chat_core::clock::parse_iso8601(ended.data()["endTime"].as_str().unwrap())
        .expect("endTime is a time");

    let mut accepted = Vec::new();
    for writer in writers {
        for outcome in writer.await.unwrap() {
            if outcome.status == 200 {
                accepted.push(outcome.data()["messageId"].as_str().unwrap().to_owned());
            } else {
                outcome.assert_error(404, "SESSION_NOT_FOUND");
            }
        }
    }
    accepted.sort();
    let transcript = app.transcript(&session.session_id).await;
    let stored: Vec<String> = transcript
        .messages
        .iter()
        .map(|m| m.message_id.to_string())
        .collect();
    assert_eq!(accepted, stored, "exactly the accepted sends are stored");
    assert!(
        !accepted.is_empty() && accepted.len() < 60,
        "some sends landed, the end refused the rest"
    );
    assert!(
        transcript.messages.iter().all(|m| m.timestamp <= end_time),
        "nothing after the end"
    );
    assert_eq!(transcript.session.unwrap().last_seq as usize, stored.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_racing_the_client_leaving_lands_before_the_end_or_is_refused() {
    sends_racing_an_end(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_racing_an_agent_ending_the_chat_lands_before_the_end_or_is_refused() {
    sends_racing_an_end(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_message_sent_five_times_at_once_is_stored_once() {
    let app = Arc::new(spawn_app().await);
    let session = app.start_session("Ann").await;
    let body = json!({ "sessionId": session.session_id, "message": "Is anyone there?", "messageId": "msg_user_1" });
    let retries: Vec<_> = (0..5)
        .map(|_| {
            let app = app.clone();
            let (token, body) = (session.token.clone(), body.clone());
            tokio::spawn(async move { app.send_message(Some(&token), &body).await })
        })
        .collect();
    let mut answers = HashSet::new();
    for retry in retries {
        let response = retry.await.unwrap();
        answers.insert(response.data().to_string());
    }
    assert_eq!(
        answers.len(),
        1,
        "every retry got the first result: {answers:?}"
    );
    let messages = app
        .table_contents()
        .await
        .into_iter()
        .filter(|item| item["SK"].as_str().unwrap().starts_with("MSG#"))
        .count();
    assert_eq!(messages, 1);
}
