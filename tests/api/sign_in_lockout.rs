//! Sign-in under attack: ten failures for one email within 15 minutes lock it until 15 minutes
//! after the last, for real and unknown emails alike; time passes on a manual clock.

use chat_core::sign_in::lockout::email_hash;
use chat_core::ManualClock;
use chat_tests::{spawn_app_at, ApiResponse, TestApp};
use chrono::{Duration, Utc};
use serde_json::Value;
use std::sync::Arc;

const WRONG: &str = "not the right password";

async fn app_on(clock: &ManualClock) -> TestApp {
    spawn_app_at(Arc::new(clock.clone()), |_| {}).await
}

fn retry_after(response: &ApiResponse) -> u64 {
    response.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn fail(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        app.login(email, WRONG)
            .await
            .assert_error(401, "AUTH_FAILED");
    }
}

#[tokio::test]
async fn ten_failures_lock_an_email_until_fifteen_minutes_after_the_last() {
    let clock = ManualClock::new(Utc::now());
    let app = app_on(&clock).await;
    let agent = app.sign_up_agent("Sam").await;
    for _ in 0..10 {
        fail(&app, &agent.email, 1).await;
        clock.advance(Duration::seconds(30));
    }
    // The right password does not help while locked.
    let locked = app.login(&agent.email, &agent.password).await;
    locked.assert_error(429, "TOO_MANY_ATTEMPTS");
    assert_eq!(retry_after(&locked), 15 * 60 - 30);
    // The counter is keyed and stored by a hash of the email, never the address itself.
    let counter_key = format!("LOGIN#{}", email_hash(&agent.email));
    let items = app.table_contents().await;
    let counter = items.iter().find(|i| i["PK"] == counter_key.as_str());
    assert!(counter.is_some_and(|c| c["expiresAt"].is_i64()));
    for item in items.iter().filter(|i| {
        let pk = i["PK"].as_str().unwrap_or_default();
        !pk.starts_with("ADMIN")
    }) {
        assert!(
            !item.to_string().contains(&agent.email),
            "raw email stored: {item}"
        );
    }
    // Refused attempts are not failures: they do not push the end of the lock.
    clock.advance(Duration::minutes(14));
    let still = app
        .login(&agent.email.to_uppercase(), &agent.password)
        .await;
    still.assert_error(429, "TOO_MANY_ATTEMPTS");
    assert_eq!(retry_after(&still), 30);
    clock.advance(Duration::seconds(30));
    assert_eq!(
        app.login(&agent.email, &agent.password).await.status,
        200,
        "15 minutes after the last failure"
    );

    // The lock is in the activity log, once, for the account.
    let reader = app.sign_up_agent("Auditor").await;
    let log = app
        .admin_get(
            &format!("/api/admin/activity?adminId={}", agent.admin_id),
            &reader.token,
        )
        .await;
    let locks: Vec<&Value> = log.data()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "SIGN_IN_LOCKED")
        .collect();
    assert_eq!(locks.len(), 1, "{}", log.body);
    assert_eq!(locks[0]["details"]["failures"], 10);
    assert_eq!(locks[0]["details"]["sourceIp"], "127.0.0.1");
}

#[tokio::test]
async fn real_and_unknown_emails_get_the_same_answer_after_the_same_work() {
    let clock = ManualClock::new(Utc::now());
    let app = app_on(&clock).await;
    let agent = app.sign_up_agent("Sam").await;
    let unknown = "nobody-here@support.example";
    fail(&app, &agent.email, 10).await;
    fail(&app, unknown, 10).await;

    app.requests.take();
    let real = app.login(&agent.email, &agent.password).await;
    let real_work = app.requests.take();
    let stranger = app.login(unknown, &agent.password).await;
    let stranger_work = app.requests.take();
    real.assert_error(429, "TOO_MANY_ATTEMPTS");
    assert_eq!(real.body, stranger.body);
    assert_eq!(retry_after(&real), retry_after(&stranger));
    assert_eq!(real_work, stranger_work);

    // An unknown email has no account to log the lock against: nothing in the activity log.
    let log = app.admin_get("/api/admin/activity", &agent.token).await;
    let locks = log.data()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "SIGN_IN_LOCKED")
        .count();
    assert_eq!(locks, 1, "only the real account's lock: {}", log.body);
}

#[tokio::test]
async fn failures_outside_the_window_or_before_a_success_do_not_add_up() {
    let clock = ManualClock::new(Utc::now());
    let app = app_on(&clock).await;
    let agent = app.sign_up_agent("Sam").await;

    fail(&app, &agent.email, 9).await;
    clock.advance(Duration::minutes(16));
    // Each failure is counted with one conditional write.
    app.requests.take();
    fail(&app, &agent.email, 1).await;
    assert_eq!(app.requests.take().get("UpdateItem"), Some(&1));
    assert_eq!(app.login(&agent.email, &agent.password).await.status, 200);

    // A success starts the count again.
    fail(&app, &agent.email, 9).await;
    assert_eq!(app.login(&agent.email, &agent.password).await.status, 200);
    fail(&app, &agent.email, 9).await;
    assert_eq!(app.login(&agent.email, &agent.password).await.status, 200);

    // Other emails are not affected by one being locked.
    fail(&app, &agent.email, 10).await;
    let colleague = app.sign_up_agent("Kim").await;
    assert_eq!(
        app.login(&colleague.email, &colleague.password)
            .await
            .status,
        200
    );
}
