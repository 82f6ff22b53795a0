//! The REST cursor is the truth (docs/contract.md §C4): a poll whose cursor names a reply gets
//! every reply after it, whether or not another poll delivered it already: a customer's second
//! device, or a client catching up after its push connection dropped.

use chat_tests::{spawn_app, ApiResponse, ClientSession, TestApp};

/// A client that keeps the id of the last reply it saw as its cursor (not its own messages').
struct Device {
    cursor: Option<String>,
    seen: Vec<String>,
}

impl Device {
    fn new() -> Self {
        Self {
            cursor: None,
            seen: Vec::new(),
        }
    }

    /// Polls until `hasMore` is false; each answer must bring something or end the paging,
    /// within a bound (a poll that answers nothing with `hasMore` forever fails here).
    async fn poll(&mut self, app: &TestApp, session: &ClientSession) {
        for _ in 0..20 {
            let polled: ApiResponse = app
                .poll(
                    &session.session_id,
                    Some(&session.token),
                    self.cursor.as_deref(),
                )
                .await;
            let data = polled.data();
            for message in data["messages"].as_array().expect("messages") {
                self.seen
                    .push(message["message"].as_str().unwrap().to_owned());
                self.cursor = Some(message["messageId"].as_str().unwrap().to_owned());
            }
            if data["hasMore"] != true {
                return;
            }
        }
        panic!("20 polls in a row answered hasMore: the poll makes no progress");
    }
}

#[tokio::test]
async fn two_devices_of_one_customer_each_get_every_reply_once_in_order() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let id = &session.session_id;
    let (mut phone, mut tablet) = (Device::new(), Device::new());
    app.user_says(&session, "Hello from the phone").await;
    phone.poll(&app, &session).await;
    tablet.poll(&app, &session).await;

    let mut expected = Vec::new();
    for round in 0..4 {
        for n in 0..3 {
            let text = format!("reply {round}.{n}");
            app.agent_replies(&agent, id, &text).await;
            expected.push(text);
        }
        // The phone polls every round, the tablet every other one: each still gets each
        // reply once, whichever delivered it first.
        phone.poll(&app, &session).await;
        if round % 2 == 1 {
            tablet.poll(&app, &session).await;
        }
        app.user_says(&session, &format!("customer line {round}"))
            .await;
    }
    tablet.poll(&app, &session).await;
    assert_eq!(phone.seen, expected);
    assert_eq!(tablet.seen, expected);
}

#[tokio::test]
async fn a_client_catching_up_from_its_cursor_gets_what_another_poll_delivered_meanwhile() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let id = &session.session_id;
    let mut offline = Device::new();
    app.user_says(&session, "Anyone there?").await;
    app.agent_replies(&agent, id, "Yes, hello").await;
    offline.poll(&app, &session).await;
    assert_eq!(offline.seen, ["Yes, hello"]);

    // While this client is away, another poll (the shipped app on the same session) delivers
    // two more replies.
    app.agent_replies(&agent, id, "One moment").await;
    app.agent_replies(&agent, id, "Found it").await;
    let other = app.poll(id, Some(&session.token), None).await;
    assert_eq!(other.data()["messages"].as_array().unwrap().len(), 3);

    // Back, it catches up from its cursor: both, once; then nothing more.
    offline.poll(&app, &session).await;
    assert_eq!(offline.seen, ["Yes, hello", "One moment", "Found it"]);
    offline.poll(&app, &session).await;
    assert_eq!(offline.seen.len(), 3);
}

#[tokio::test]
async fn a_cursor_on_a_reply_far_behind_still_gets_the_next_reply() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let id = &session.session_id;
    let mut tablet = Device::new();
    app.user_says(&session, "Hello").await;
    app.agent_replies(&agent, id, "Hi Ann").await;
    tablet.poll(&app, &session).await;

    // The customer writes 60 lines from the phone (more than one poll page), a reply comes,
    // and the phone (the shipped app: its cursor is its own last line) gets it.
    let mut last_line = String::new();
    for n in 0..60 {
        last_line = app.user_says(&session, &format!("line {n}")).await;
    }
    app.agent_replies(&agent, id, "Got all of it").await;
    // (Its first poll reads one page of the lines and answers nothing yet; the next one, two
    // seconds later with the same cursor, brings the reply.)
    let first = app.poll(id, Some(&session.token), Some(&last_line)).await;
    assert_eq!(first.data()["hasMore"], true);
    let phone = app.poll(id, Some(&session.token), Some(&last_line)).await;
    assert_eq!(phone.data()["messages"][0]["message"], "Got all of it");

    // The tablet's cursor is the first reply, 61 messages back: it gets the new one.
    tablet.poll(&app, &session).await;
    assert_eq!(tablet.seen, ["Hi Ann", "Got all of it"]);
}
