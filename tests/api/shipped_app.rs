//! The mobile app as shipped (docs/contract.md §C2, §C3): it moves its poll cursor to the id of
//! its own sent message. Every support reply must still reach it exactly once, in order.

use chat_tests::{spawn_app, Agent, ApiResponse, ClientSession, TestApp};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn texts(polled: &ApiResponse) -> Vec<String> {
    polled.data()["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message"].as_str().unwrap().to_owned())
        .collect()
}

/// The app's poll with the cursor it holds.
async fn poll_after(app: &TestApp, session: &ClientSession, after: &str) -> ApiResponse {
    app.poll(&session.session_id, Some(&session.token), Some(after))
        .await
}

fn message_id(polled: &ApiResponse, index: usize) -> String {
    polled.data()["messages"][index]["messageId"]
        .as_str()
        .expect("messageId")
        .to_owned()
}

#[tokio::test]
async fn a_reply_committed_before_the_customers_next_message_is_still_delivered() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;

    // 1. The customer sends; the app polls after its own message: nothing yet.
    let first = app.user_says(&session, "Where is my order?").await;
    assert_eq!(
        texts(&poll_after(&app, &session, &first).await),
        Vec::<String>::new()
    );
    // 2. The agent replies.
    app.agent_replies(&agent, &session.session_id, "Checking now")
        .await;
    // 3. The customer writes again before the next poll; the app's cursor moves to it.
    let second = app.user_says(&session, "It was due Monday").await;
    // 4. The poll after the customer's own message still brings the reply, once: the app then
    //    polls after the reply's id and gets nothing more.
    let polled = poll_after(&app, &session, &second).await;
    assert_eq!(texts(&polled), ["Checking now"]);
    let reply = message_id(&polled, 0);
    assert_eq!(
        texts(&poll_after(&app, &session, &reply).await),
        Vec::<String>::new()
    );
    let third = app.user_says(&session, "Thanks").await;
    assert_eq!(
        texts(&poll_after(&app, &session, &third).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn several_replies_and_sends_interleaved_arrive_once_each_in_order() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let id = &session.session_id;

    app.user_says(&session, "u1").await;
    app.agent_replies(&agent, id, "r1").await;
    app.agent_replies(&agent, id, "r2").await;
    app.user_says(&session, "u2").await;
    app.agent_replies(&agent, id, "r3").await;
    let u3 = app.user_says(&session, "u3").await;
    let polled = poll_after(&app, &session, &u3).await;
    assert_eq!(texts(&polled), ["r1", "r2", "r3"]);
    let r3 = message_id(&polled, 2);

    // The app now polls after r3; nothing new.
    assert_eq!(
        texts(&poll_after(&app, &session, &r3).await),
        Vec::<String>::new()
    );
    app.agent_replies(&agent, id, "r4").await;
    let u4 = app.user_says(&session, "u4").await;
    app.agent_replies(&agent, id, "r5").await;
    // r4 sorts before the cursor (never returned), r5 after it: both, in order.
    let polled = poll_after(&app, &session, &u4).await;
    assert_eq!(texts(&polled), ["r4", "r5"]);
    let r5 = message_id(&polled, 1);
    assert_eq!(
        texts(&poll_after(&app, &session, &r5).await),
        Vec::<String>::new()
    );

    // A reply the app already got is not repeated after its next own message.
    app.agent_replies(&agent, id, "r6").await;
    assert_eq!(texts(&poll_after(&app, &session, &r5).await), ["r6"]);
    let u5 = app.user_says(&session, "u5").await;
    assert_eq!(
        texts(&poll_after(&app, &session, &u5).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_lost_poll_answer_is_answered_again_and_a_stale_cursor_repeats_nothing() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let id = &session.session_id;

    let u1 = app.user_says(&session, "u1").await;
    app.agent_replies(&agent, id, "r1").await;
    let u2 = app.user_says(&session, "u2").await;
    let r2 = app.agent_replies(&agent, id, "r2").await;
    assert_eq!(texts(&poll_after(&app, &session, &u2).await), ["r1", "r2"]);
    // The answer never reached the app: it polls again with the same cursor, gets the same.
    assert_eq!(texts(&poll_after(&app, &session, &u2).await), ["r1", "r2"]);
    // A cursor from an answer that arrived late (the send of u1 answered after that poll):
    // nothing is repeated.
    assert_eq!(
        texts(&poll_after(&app, &session, &u1).await),
        Vec::<String>::new()
    );
    app.agent_replies(&agent, id, "r3").await;
    assert_eq!(texts(&poll_after(&app, &session, &r2).await), ["r3"]);
    // Without a cursor the app asks for the whole support history, as before.
    let polled = app.poll(id, Some(&session.token), None).await;
    assert_eq!(texts(&polled), ["r1", "r2", "r3"]);
}

/// A port of the shipped app's chat service (`sendMessage`, `startMessagePolling`; §C3), cursor
/// habit included: the poll runs on its own timer while the customer sends.
struct ShippedApp {
    session: ClientSession,
    state: Mutex<AppState>,
}

#[derive(Default)]
struct AppState {
    last_message_id: Option<String>,
    /// `message_received` events: what the customer sees from support, in order.
    received: Vec<(String, String)>,
    /// Replies that arrived although they sort before the cursor the app polled with: the
    /// case a plain "after the cursor" read loses.
    caught_up: usize,
}

impl ShippedApp {
    /// `sendMessage`: send, then `this.lastMessageId = userMessage.id` (the server's id for it).
    async fn send_message(&self, app: &TestApp, text: &str) {
        let response = app
            .send_message(
                Some(&self.session.token),
                &json!({ "sessionId": self.session.session_id, "message": text, "sender": "user" }),
            )
            .await;
        let id = response.data()["messageId"].as_str().unwrap().to_owned();
        self.state.lock().unwrap().last_message_id = Some(id);
    }

    /// `startMessagePolling`: poll after `lastMessageId`; append every message; move the cursor to
    /// the last one.
    async fn poll(&self, app: &TestApp) -> bool {
        let cursor = self.state.lock().unwrap().last_message_id.clone();
        let polled = app
            .poll(
                &self.session.session_id,
                Some(&self.session.token),
                cursor.as_deref(),
            )
            .await;
        let data = polled.data();
        let messages = data["messages"].as_array().unwrap();
        let mut state = self.state.lock().unwrap();
        for message in messages {
            assert_eq!(
                message["sender"], "admin",
                "the poll returns support messages"
            );
            let id = message["messageId"].as_str().unwrap();
            // Ids are fixed-width, so they compare as they sort.
            if cursor.as_deref().is_some_and(|cursor| id < cursor) {
                state.caught_up += 1;
            }
            state.received.push((
                message["messageId"].as_str().unwrap().to_owned(),
                message["message"].as_str().unwrap().to_owned(),
            ));
        }
        if let Some(last) = messages.last() {
            state.last_message_id = Some(last["messageId"].as_str().unwrap().to_owned());
        }
        data["sessionEnded"] == true
    }
}

/// A small deterministic generator: the interleaving varies per step, the same every run.
fn pauses(seed: u64) -> impl FnMut() -> Duration {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis((state >> 33) % 25)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_customers_with_the_shipped_app_get_every_reply_exactly_once_in_order() {
    const SENDS: usize = 8;
    const REPLIES_PER_AGENT: usize = 6;
    let app = Arc::new(spawn_app().await);
    let agents: Vec<Agent> = vec![
        app.sign_up_agent("Ada").await,
        app.sign_up_agent("Bo").await,
    ];
    let mut customers = Vec::new();
    for name in ["Ann", "Ben"] {
        customers.push(Arc::new(ShippedApp {
            session: app.start_session(name).await,
            state: Mutex::default(),
        }));
    }

    let mut tasks = Vec::new();
    for (c, customer) in customers.iter().enumerate() {
        // The customer keeps writing...
        let (app_, customer_) = (app.clone(), customer.clone());
        tasks.push(tokio::spawn(async move {
            let mut pause = pauses(c as u64 + 1);
            for i in 0..SENDS {
                tokio::time::sleep(pause()).await;
                customer_
                    .send_message(&app_, &format!("customer {c} says {i}"))
                    .await;
            }
        }));
        // ...while both agents answer.
        for (a, agent) in agents.iter().enumerate() {
            let (app, agent, session_id) = (
                app.clone(),
                agent.clone(),
                customer.session.session_id.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut pause = pauses(100 + 10 * c as u64 + a as u64);
                for i in 0..REPLIES_PER_AGENT {
                    tokio::time::sleep(pause()).await;
                    // Both in one session: the first reply claims it, the other agent forces.
                    let text = format!("agent {a} to {c}: {i}");
                    let body = json!({ "sessionId": session_id, "message": text,
                                       "sender": "admin", "force": true });
                    app.admin_post("/api/admin/chat/message", &agent.token, &body)
                        .await
                        .data();
                }
            }));
        }
    }
    // Each app polls on its own timer the whole time (sequentially, as the 2 s interval does).
    let pollers: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(c, customer)| {
            let (app, customer) = (app.clone(), customer.clone());
            tokio::spawn(async move {
                // Polls are further apart than messages, as a 2 s timer is next to chatting.
                let mut pause = pauses(1000 + c as u64);
                let expected = 2 * REPLIES_PER_AGENT;
                for _ in 0..2_000 {
                    customer.poll(&app).await;
                    if customer.state.lock().unwrap().received.len() >= expected {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(30) + pause()).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    for poller in pollers {
        poller.await.unwrap();
    }
    // A few more polls after everything is written: nothing is repeated late.
    for customer in &customers {
        for _ in 0..3 {
            customer.poll(&app).await;
        }
    }
    // And once more the case that used to lose a reply, not left to timing: a reply, then the
    // customer writes, then the app polls after its own message.
    for customer in &customers {
        // Whichever agent's first reply claimed the session, this one goes in anyway.
        let body = json!({ "sessionId": customer.session.session_id, "message": "anything else?",
                           "sender": "admin", "force": true });
        app.admin_post("/api/admin/chat/message", &agents[0].token, &body)
            .await
            .data();
        customer.send_message(&app, "no, thanks").await;
        customer.poll(&app).await;
    }

    for customer in &customers {
        let stored = app.transcript(&customer.session.session_id).await;
        let replies: Vec<(String, String)> = stored
            .messages
            .iter()
            .filter(|m| m.sender == chat_core::model::Sender::Admin)
            .map(|m| (m.message_id.to_string(), m.message.clone()))
            .collect();
        assert_eq!(replies.len(), 2 * REPLIES_PER_AGENT + 1);
        let received = customer.state.lock().unwrap().received.clone();
        assert_eq!(
            received, replies,
            "every reply exactly once, in transcript order, to its own customer"
        );
        let users = stored
            .messages
            .iter()
            .filter(|m| m.sender == chat_core::model::Sender::User)
            .count();
        assert_eq!(users, SENDS + 1);
    }
    // The case that used to lose replies really happened here, and more than once.
    let caught_up: usize = customers
        .iter()
        .map(|customer| customer.state.lock().unwrap().caught_up)
        .sum();
    assert!(
        caught_up >= 2,
        "only {caught_up} replies arrived behind the cursor"
    );
}
