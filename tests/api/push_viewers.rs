//! An agent's dashboard that shows a chat it does not hold: it says `view`, and the chat's
//! messages, typing and read ticks reach it as they reach the holder's, until it views another
//! chat or disconnects.

use chat_tests::push::FRAME_WAIT;
use chat_tests::spawn_push_app;
use serde_json::{json, Value};

fn view(session: Option<&str>) -> String {
    json!({ "action": "view", "sessionId": session }).to_string()
}

fn viewer_items(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter(|item| {
            item["PK"]
                .as_str()
                .is_some_and(|pk| pk.starts_with("CONNS#VIEW#"))
        })
        .map(|item| item["PK"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_agent_viewing_an_unassigned_chat_sees_its_typing_and_messages_until_it_looks_away() {
    let app = spawn_push_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let other = app.start_session("Bo").await;
    let mut desk = app.agent_push(&agent).await;

    desk.send_text(view(Some(&session.session_id))).await;
    let viewing = desk.expect("viewing", |_| true).await;
    assert_eq!(viewing["data"]["sessionId"], session.session_id);

    app.user_types(&session).await;
    let typing = desk
        .expect("typing", |f| f["sessionId"] == session.session_id)
        .await;
    assert_eq!(typing["data"]["side"], "user");
    let sent = app.user_says(&session, "Is anyone there?").await;
    let pushed = desk
        .expect("message.created", |f| f["sessionId"] == session.session_id)
        .await;
    assert_eq!(pushed["data"]["messageId"], sent);

    // Another chat on screen: the first one's events stop, the second's come.
    desk.send_text(view(Some(&other.session_id))).await;
    desk.expect("viewing", |f| f["data"]["sessionId"] == other.session_id)
        .await;
    app.user_says(&session, "Hello?").await;
    app.user_says(&other, "Hi").await;
    desk.expect("message.created", |f| f["sessionId"] == other.session_id)
        .await;
    app.push_settled().await;
    desk.expect_none("closing").await; // reads what is still on its way
    assert!(
        !desk.received.iter().any(|f| f["type"] == "message.created"
            && f["sessionId"] == session.session_id
            && f["data"]["message"] == "Hello?"),
        "nothing more of the chat it looked away from"
    );
    assert_eq!(
        viewer_items(&app.table_contents().await),
        [format!("CONNS#VIEW#{}", other.session_id)]
    );

    // No chat on screen, then gone: nothing is left behind.
    desk.send_text(view(None)).await;
    desk.expect("viewing", |f| f["data"]["sessionId"].is_null())
        .await;
    assert!(viewer_items(&app.table_contents().await).is_empty());
    desk.send_text(view(Some(&other.session_id))).await;
    desk.expect("viewing", |f| f["data"]["sessionId"] == other.session_id)
        .await;
    desk.close().await;
    app.wait_until(FRAME_WAIT, || async {
        viewer_items(&app.table_contents().await).is_empty()
    })
    .await;
}

#[tokio::test]
async fn the_holder_viewing_its_own_chat_gets_each_frame_once() {
    let app = spawn_push_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    app.claims(&agent, &session.session_id).await;
    let mut desk = app.agent_push(&agent).await;
    desk.send_text(view(Some(&session.session_id))).await;
    desk.expect("viewing", |_| true).await;
    let sent = app.user_says(&session, "Once, please").await;
    desk.expect("message.created", |f| f["data"]["messageId"] == sent)
        .await;
    app.push_settled().await;
    desk.expect_none("closing").await; // reads what is still on its way
    let copies = desk
        .received
        .iter()
        .filter(|f| f["type"] == "message.created" && f["data"]["messageId"] == sent)
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test]
async fn only_agents_view_and_only_real_session_ids_and_a_refused_view_stores_nothing() {
    let app = spawn_push_app().await;
    let session = app.start_session("Ann").await;
    let agent = app.sign_up_agent("Sam").await;
    let mut customer = app.customer_push(&session).await;
    let mut desk = app.agent_push(&agent).await;
    let before = app.table_contents().await;

    customer.send_text(view(Some(&session.session_id))).await;
    let refused = customer.expect("error", |_| true).await;
    assert_eq!(refused["data"]["code"], "NOT_AN_AGENT");
    for bad in [
        json!({ "action": "view", "sessionId": "no" }),
        json!({ "action": "view", "sessionId": 7 }),
    ] {
        desk.send_text(bad.to_string()).await;
        let refused = desk.expect("error", |_| true).await;
        assert_eq!(refused["data"]["code"], "BAD_SESSION");
    }
    let unknown = json!({ "action": "view", "sessionId": "chat_no_such_session" });
    desk.send_text(unknown.to_string()).await;
    let refused = desk.expect("error", |_| true).await;
    assert_eq!(refused["data"]["code"], "SESSION_NOT_FOUND");
    assert_eq!(app.table_contents().await, before);
}

#[tokio::test]
async fn a_deactivated_agent_stops_viewing_and_leaves_no_copy_behind() {
    let app = spawn_push_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let mut desk = app.agent_push(&agent).await;
    desk.send_text(view(Some(&session.session_id))).await;
    desk.expect("viewing", |_| true).await;
    app.deactivate_agent(&agent).await;
    desk.expect("closing", |_| true).await;
    app.wait_until(FRAME_WAIT, || async {
        let items = app.table_contents().await;
        viewer_items(&items).is_empty()
            && !items
                .iter()
                .any(|item| item["SK"].as_str().is_some_and(|sk| sk.starts_with("CONN")))
    })
    .await;
    // The chat's next message finds no viewer left.
    app.user_says(&session, "Anyone?").await;
    app.push_settled().await;
    assert!(viewer_items(&app.table_contents().await).is_empty());
}
