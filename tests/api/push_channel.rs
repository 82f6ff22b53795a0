//! The push channel end to end: tickets from the REST API, WebSocket connections through the
//! local API Gateway emulation, and the stream consumer fed by the table's stream, as deployed.
//! Push is a hint: every test also checks the REST cursor still agrees.

use chat_core::ManualClock;
use chat_tests::push::{PushClient, FRAME_WAIT};
use chat_tests::{spawn_push_app, spawn_push_app_at, TestApp};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::sync::Arc;

fn url_of(ticket: &chat_tests::ApiResponse) -> String {
    ticket.data()["url"].as_str().unwrap().to_owned()
}

/// What the table holds once the consumer has dealt with every change so far.
async fn stored(app: &TestApp) -> Vec<Value> {
    app.push_settled().await;
    app.table_contents().await
}

#[tokio::test]
async fn a_customer_with_the_app_in_hand_gets_each_reply_pushed_and_the_poll_agrees() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    let mut push = app.customer_push(&session).await;

    app.user_says(&session, "My order is late").await;
    let reply = app
        .agent_replies(&agent, &session.session_id, "Let me check")
        .await;
    let frame = push
        .expect("message.created", |f| f["data"]["messageId"] == reply)
        .await;
    assert_eq!(frame["sessionId"], session.session_id);
    assert_eq!(frame["data"]["message"], "Let me check");
    assert_eq!(frame["data"]["sender"], "admin");
    assert!(
        frame["data"].get("adminId").is_none(),
        "as the poll shows it"
    );

    // The cursor stays the truth: the poll from before the reply returns the same message.
    let polled = app
        .poll(&session.session_id, Some(&session.token), None)
        .await;
    let messages = polled.data()["messages"].as_array().unwrap();
    assert_eq!(messages[0]["messageId"], reply);
    assert_eq!(
        messages[0], frame["data"],
        "the same message, field for field"
    );
    push.close().await;
}

#[tokio::test]
async fn the_customers_own_messages_are_not_echoed_but_the_holder_sees_both_sides() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    let first = app.user_says(&session, "Hello").await;
    app.agent_replies(&agent, &session.session_id, "Hi, Sam here")
        .await;
    // Connected after those changes went out (push tells what happens from now on).
    app.push_settled().await;
    let mut desk = app.agent_push(&agent).await;
    let mut phone = app.customer_push(&session).await;

    let question = app.user_says(&session, "Where is it?").await;
    let seen = desk
        .expect("message.created", |f| f["data"]["messageId"] == question)
        .await;
    assert_eq!(seen["data"]["sender"], "user");
    phone.expect_none("message.created").await;
    assert_ne!(first, question);
}

#[tokio::test]
async fn agents_hear_of_a_new_chat_a_claim_and_typing_without_polling() {
    let app = spawn_push_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let mut desk = app.agent_push(&agent).await;

    let session = app.start_session("Ann").await;
    let hint = desk.expect("lists.changed", |_| true).await;
    let rows = hint["data"]["sessions"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["sessionId"] == session.session_id));

    app.claims(&agent, &session.session_id).await;
    let assigned = desk
        .expect("session.assigned", |f| f["sessionId"] == session.session_id)
        .await;
    assert_eq!(assigned["data"]["via"], "claim");
    assert_eq!(assigned["data"]["assignedTo"]["adminId"], agent.admin_id);

    app.user_types(&session).await;
    let typing = desk
        .expect("typing", |f| f["sessionId"] == session.session_id)
        .await;
    assert_eq!(typing["data"]["side"], "user");
}

#[tokio::test]
async fn the_customer_learns_who_answers_by_name_only() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    let mut phone = app.customer_push(&session).await;
    app.admin_post(
        "/api/admin/chat/claim",
        &agent.token,
        &json!({ "sessionId": session.session_id }),
    )
    .await;
    let assigned = phone.expect("session.assigned", |_| true).await;
    assert_eq!(assigned["data"]["assignedTo"], json!({ "name": "Sam" }));
}

#[tokio::test]
async fn an_ended_session_closes_its_customers_connections_after_saying_why() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    let mut phone = app.customer_push(&session).await;
    let ended = app
        .admin_post(
            "/api/admin/chat/session/end",
            &agent.token,
            &json!({ "sessionId": session.session_id }),
        )
        .await;
    assert_eq!(ended.status, 200, "{:?}", ended.body);
    let frame = phone.expect("session.ended", |_| true).await;
    assert_eq!(frame["data"]["endReason"], "admin");
    phone.expect_closed().await;
    let kinds: Vec<&str> = phone
        .received
        .iter()
        .filter_map(|f| f["type"].as_str())
        .collect();
    let closing = kinds
        .iter()
        .position(|k| *k == "closing")
        .expect("a closing frame");
    assert!(closing > kinds.iter().position(|k| *k == "session.ended").unwrap());
    // A new ticket for the ended session is refused.
    app.customer_ticket(&session)
        .await
        .assert_error(404, "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn a_deactivated_agent_stops_receiving_within_seconds() {
    let app = spawn_push_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let mut desk = app.agent_push(&agent).await;
    app.deactivate_agent(&agent).await;
    let closing = desk.expect("closing", |_| true).await;
    assert_eq!(closing["data"]["reason"], "agent-deactivated");
    desk.expect_closed().await;
}

#[tokio::test]
async fn a_ticket_opens_one_connection_once() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let ticket = app.customer_ticket(&session).await;
    assert_eq!(ticket.status, 200, "{:?}", ticket.body);
    assert_eq!(ticket.data()["expiresIn"], 60);
    let url = url_of(&ticket);
    let first = app.connect_push(&url).await.open();
    let before = stored(&app).await;
    assert_eq!(app.connect_push(&url).await.refused(), 401, "reused");
    assert_eq!(
        stored(&app).await,
        before,
        "a refused connect stores nothing"
    );
    first.close().await;
}

#[tokio::test]
async fn forged_malformed_and_missing_tickets_are_refused_before_any_connection() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let url = url_of(&app.customer_ticket(&session).await);
    let base = url.split('?').next().unwrap().to_owned();
    let before = stored(&app).await;
    let forged = format!("{base}?ticket={}", "A".repeat(43));
    for attempt in [
        forged,
        format!("{base}?ticket=short"),
        base.clone(),
        format!("{base}?ticket="),
    ] {
        assert_eq!(app.connect_push(&attempt).await.refused(), 401, "{attempt}");
    }
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn an_expired_ticket_is_refused() {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_push_app_at(Arc::new(clock.clone()), |_| {}).await;
    let session = app.start_session("Ann").await;
    let url = url_of(&app.customer_ticket(&session).await);
    clock.advance(Duration::seconds(61));
    assert_eq!(app.connect_push(&url).await.refused(), 401);
}

#[tokio::test]
async fn a_ticket_for_one_session_never_opens_another() {
    let app = spawn_push_app().await;
    let mine = app.start_session("Ann").await;
    let theirs = app.start_session("Bob").await;
    let agent = app.sign_up_agent("Sam").await;
    // The ticket is Ann's; naming Bob's session in the URL changes nothing.
    let url = format!(
        "{}&sessionId={}",
        url_of(&app.customer_ticket(&mine).await),
        theirs.session_id
    );
    let mut push = app.connect_push(&url).await.open();
    let to_bob = app
        .agent_replies(&agent, &theirs.session_id, "For Bob")
        .await;
    let to_ann = app.agent_replies(&agent, &mine.session_id, "For Ann").await;
    push.expect("message.created", |f| {
        f["data"]["messageId"] == to_ann && f["sessionId"] == mine.session_id
    })
    .await;
    assert!(
        push.received
            .iter()
            .all(|f| f["sessionId"] != theirs.session_id),
        "{to_bob}"
    );
    // And another session's token gets no ticket for it.
    let foreign = app
        .post_json(
            "/api/chat/realtime/ticket",
            Some(&mine.token),
            &json!({ "sessionId": theirs.session_id }),
        )
        .await;
    foreign.assert_error(404, "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn ticket_requests_without_credentials_are_refused_and_store_nothing() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let before = stored(&app).await;
    app.post_json(
        "/api/chat/realtime/ticket",
        None,
        &json!({ "sessionId": session.session_id }),
    )
    .await
    .assert_error(401, "NO_TOKEN");
    app.post_json(
        "/api/chat/realtime/ticket",
        Some(&session.token),
        &json!({}),
    )
    .await
    .assert_error(400, "INVALID_SESSION_DATA");
    let no_agent = app
        .request("POST", "/api/admin/realtime/ticket", &[], "{}")
        .await;
    assert_eq!(no_agent.status, 401);
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn frames_outside_the_protocol_get_a_defined_answer_and_change_nothing() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let mut push = app.customer_push(&session).await;
    let before = stored(&app).await;

    push.send_text(r#"{"action":"ping","t":42}"#).await;
    let pong = push.expect("pong", |_| true).await;
    assert_eq!(pong["data"]["t"], 42);
    push.send_text("not json").await;
    assert_eq!(
        push.expect("error", |_| true).await["data"]["code"],
        "BAD_JSON"
    );
    push.send_text(r#"{"action":"subscribe","sessionId":"x"}"#)
        .await;
    assert_eq!(
        push.expect("error", |_| true).await["data"]["code"],
        "UNKNOWN_ACTION"
    );
    assert_eq!(stored(&app).await, before, "no frame writes anything");
}

#[tokio::test]
async fn a_flood_of_frames_is_answered_rate_limited() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let mut push = app.customer_push(&session).await;
    for t in 0..12 {
        push.send_text(format!(r#"{{"action":"ping","t":{t}}}"#))
            .await;
    }
    let limited = push
        .expect("error", |f| f["data"]["code"] == "RATE_LIMITED")
        .await;
    assert_eq!(limited["type"], "error");
}

#[tokio::test]
async fn a_frame_over_api_gateways_32_kb_limit_closes_the_connection() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let mut push = app.customer_push(&session).await;
    push.send_text("x".repeat(33 * 1024)).await;
    let code = push.expect_closed().await;
    assert_eq!(code.map(u16::from), Some(1009));
}

#[tokio::test]
async fn a_vanished_connection_is_forgotten_after_one_post() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    // A connection item whose socket API Gateway no longer has (its $disconnect was lost).
    app.store_vanished_connection(&session.session_id, "Vanished0000Aa=")
        .await;
    let mut push = app.customer_push(&session).await;
    let reply = app
        .agent_replies(&agent, &session.session_id, "Hello")
        .await;
    push.expect("message.created", |f| f["data"]["messageId"] == reply)
        .await;
    app.wait_until(FRAME_WAIT, || async {
        !app.table_contents()
            .await
            .iter()
            .any(|item| item["SK"].as_str() == Some("CONN#Vanished0000Aa="))
    })
    .await;
    assert!(
        app.push_failures().is_empty(),
        "gone is not a failure to retry"
    );
}

#[tokio::test]
async fn two_devices_of_one_customer_each_get_every_reply_once_across_a_reconnect() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    app.user_says(&session, "Hi").await;
    let mut phone = app.customer_push(&session).await;
    let mut tablet = app.customer_push(&session).await;
    let mut replies = Vec::new();
    replies.push(app.agent_replies(&agent, &session.session_id, "one").await);
    for device in [&mut phone, &mut tablet] {
        device
            .expect("message.created", |f| f["data"]["messageId"] == replies[0])
            .await;
    }
    // The tablet drops; two replies come while it is away.
    tablet.close().await;
    replies.push(app.agent_replies(&agent, &session.session_id, "two").await);
    replies.push(
        app.agent_replies(&agent, &session.session_id, "three")
            .await,
    );
    phone
        .expect("message.created", |f| f["data"]["messageId"] == replies[2])
        .await;
    // It reconnects, catches up from its cursor (the last reply it has), then gets pushes.
    let mut tablet = app.customer_push(&session).await;
    let caught_up = app
        .poll(&session.session_id, Some(&session.token), Some(&replies[0]))
        .await;
    let mut tablet_has: Vec<String> = vec![replies[0].clone()];
    for message in caught_up.data()["messages"].as_array().unwrap() {
        tablet_has.push(message["messageId"].as_str().unwrap().to_owned());
    }
    replies.push(app.agent_replies(&agent, &session.session_id, "four").await);
    tablet
        .expect("message.created", |f| f["data"]["messageId"] == replies[3])
        .await;
    for message in tablet.messages() {
        let id = message["messageId"].as_str().unwrap().to_owned();
        if !tablet_has.contains(&id) {
            tablet_has.push(id);
        }
    }
    assert_eq!(
        tablet_has, replies,
        "every reply once, in order, on the tablet"
    );
    let phone_has: Vec<String> = phone
        .messages()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap().to_owned())
        .collect();
    phone
        .expect("message.created", |f| f["data"]["messageId"] == replies[3])
        .await;
    let mut phone_has = phone_has;
    phone_has.push(replies[3].clone());
    assert_eq!(phone_has, replies, "and on the phone");
}

#[tokio::test]
async fn without_a_deployed_push_channel_the_ticket_endpoints_say_poll() {
    let app = chat_tests::spawn_app_without_push().await;
    let session = app.start_session("Ann").await;
    app.customer_ticket(&session)
        .await
        .assert_error(503, "PUSH_UNAVAILABLE");
}

/// Keeps `PushClient` in use for the type checker even when a test only uses helpers.
#[allow(dead_code)]
fn _uses(_: &PushClient) {}

#[tokio::test]
async fn read_receipts_reach_the_other_side() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    let question = app.user_says(&session, "Is it shipped?").await;
    let reply = app.agent_replies(&agent, &session.session_id, "Yes").await;
    app.push_settled().await;
    let mut phone = app.customer_push(&session).await;
    let mut desk = app.agent_push(&agent).await;

    // The agent opens the transcript: the customer sees their message was read.
    let transcript = app
        .admin_get(
            &format!("/api/admin/chat/messages/{}", session.session_id),
            &agent.token,
        )
        .await;
    assert_eq!(transcript.status, 200);
    let read = phone.expect("read", |_| true).await;
    assert_eq!(read["data"], json!({ "side": "admin", "upTo": question }));

    // The customer's app polls: the agent sees the reply was delivered.
    app.poll(&session.session_id, Some(&session.token), Some(&question))
        .await;
    let read = desk.expect("read", |_| true).await;
    assert_eq!(read["data"], json!({ "side": "user", "upTo": reply }));
}

#[tokio::test]
async fn a_catch_up_far_ahead_of_the_shipped_apps_record_returns_what_follows_and_takes_nothing_from_it(
) {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    // A long chat: more than a poll page (50) of the customer's messages, then two replies
    // the customer's new app got by push. No poll has run: the delivery marker is at 0.
    for i in 0..55 {
        app.user_says(&session, &format!("line {i}")).await;
    }
    let first = app
        .agent_replies(&agent, &session.session_id, "first")
        .await;
    let second = app
        .agent_replies(&agent, &session.session_id, "second")
        .await;

    // The new app reconnects and catches up from `first`: exactly what follows, in one answer.
    let caught_up = app
        .poll(&session.session_id, Some(&session.token), Some(&first))
        .await;
    let ids: Vec<&str> = caught_up.data()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str()]);
    assert_eq!(caught_up.data()["hasMore"], false);

    // The customer's old phone (the shipped app, cursor on its own first message) still gets
    // both replies: another device's catch-up did not count them as delivered.
    let first_line = "msg_000000000001";
    let mut ids = Vec::new();
    loop {
        let shipped = app
            .poll(&session.session_id, Some(&session.token), Some(first_line))
            .await;
        for message in shipped.data()["messages"].as_array().unwrap() {
            ids.push(message["messageId"].as_str().unwrap().to_owned());
        }
        // The app polls again at once while `hasMore` (docs/contract.md §C4).
        if shipped.data()["hasMore"] != true {
            break;
        }
    }
    assert_eq!(ids, [first.as_str(), second.as_str()]);
}

#[tokio::test]
async fn a_list_change_another_consumer_could_not_announce_rides_on_the_next_hint() {
    let app = spawn_push_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let earlier = app.start_session("Ann").await;
    app.push_settled().await;
    let mut desk = app.agent_push(&agent).await;
    // Another consumer (another shard) lost the hint's turn for Ann's chat and noted it.
    let ann = chat_core::ids::SessionId::parse(&earlier.session_id).unwrap();
    app.chat
        .store()
        .miss_list_hint(&[ann])
        .await
        .expect("note the miss");
    // The next hint, for Bob's new chat, carries Ann's row too: no list needs re-reading.
    let later = app.start_session("Bob").await;
    let hint = desk
        .expect("lists.changed", |f| {
            f["data"]["sessions"]
                .as_array()
                .is_some_and(|rows| rows.iter().any(|r| r["sessionId"] == later.session_id))
        })
        .await;
    let rows: Vec<&str> = hint["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sessionId"].as_str().unwrap())
        .collect();
    assert!(rows.contains(&earlier.session_id.as_str()), "{rows:?}");
    assert_eq!(hint["data"]["truncated"], false);
}
