//! Exactly-once delivery under concurrent writers, and state changes that race.

use chat_core::chat::OutgoingMessage;
use chat_core::ids::SessionId;
use chat_core::model::MessageText;
use chat_core::ChatError;
use chat_tests::spawn_app;
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn reply(text: String) -> OutgoingMessage {
    OutgoingMessage {
        text: MessageText::parse(&text, 5_000).unwrap(),
        idempotency_key: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_agents_replying_at_once_reach_the_polling_client_exactly_once_in_order() {
    const AGENTS: usize = 3;
    const REPLIES: usize = 30;
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    let session_id = SessionId::parse(&session.session_id).unwrap();

    let writers: Vec<_> = (0..AGENTS)
        .map(|agent| {
            let chat = app.chat.clone();
            let session_id = session_id.clone();
            tokio::spawn(async move {
                for i in 0..REPLIES {
                    chat.send_support_message(
                        &session_id,
                        &format!("agent-{agent}"),
                        reply(format!("agent {agent} reply {i}")),
                    )
                    .await
                    .expect("every reply commits");
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
    let stored: Vec<&str> = transcript
        .messages
        .iter()
        .map(|m| m.message_id.as_str())
        .collect();
    assert_eq!(
        ids, stored,
        "the poller saw the transcript, in transcript order"
    );
    for agent in 0..AGENTS {
        let own: Vec<&str> = received
            .iter()
            .filter_map(|m| m["message"].as_str())
            .filter(|text| text.starts_with(&format!("agent {agent} ")))
            .collect();
        let expected: Vec<String> = (0..REPLIES)
            .map(|i| format!("agent {agent} reply {i}"))
            .collect();
        assert_eq!(
            own, expected,
            "each agent's replies in the order it sent them"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_send_racing_the_end_lands_before_it_or_is_refused() {
    let app = spawn_app().await;
    let session = app.start_session("Ann").await;
    let session_id = SessionId::parse(&session.session_id).unwrap();

    let writers: Vec<_> = (0..3)
        .map(|agent| {
            let chat = app.chat.clone();
            let session_id = session_id.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..20 {
                    let sent = chat
                        .send_support_message(
                            &session_id,
                            "agent",
                            reply(format!("agent {agent} reply {i}")),
                        )
                        .await;
                    outcomes.push(sent);
                }
                outcomes
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ended = app.leave(&session).await;
    let end_time = ended.data()["endTime"].as_str().unwrap().to_owned();

    let mut accepted = Vec::new();
    for writer in writers {
        for outcome in writer.await.unwrap() {
            match outcome {
                Ok(sent) => accepted.push(sent),
                Err(ChatError::SessionNotFound) => {}
                Err(other) => panic!("unexpected failure {other:?}"),
            }
        }
    }
    let transcript = app.transcript(&session.session_id).await;
    let mut accepted_ids: Vec<String> = accepted.iter().map(|s| s.message_id.clone()).collect();
    accepted_ids.sort();
    let stored_ids: Vec<String> = transcript
        .messages
        .iter()
        .map(|m| m.message_id.clone())
        .collect();
    assert_eq!(
        accepted_ids, stored_ids,
        "exactly the accepted sends are stored"
    );
    assert!(accepted.len() < 60, "the end refused the sends after it");
    assert!(
        transcript.messages.iter().all(|m| m.timestamp <= end_time),
        "nothing after the end"
    );
    assert_eq!(
        transcript.session.unwrap().last_seq as usize,
        stored_ids.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_message_sent_five_times_at_once_is_stored_once() {
    let app = std::sync::Arc::new(spawn_app().await);
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
