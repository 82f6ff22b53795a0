//! Agent sign-in and the admin check: who gets in, who does not, and with which code.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::sign_in::accounts::AdminAccounts;
use chat_core::sign_in::auth::{AdminAuth, AdminAuthError, ADMIN_CACHE_SECONDS};
use chat_core::{ManualClock, SystemClock};
use chat_tests::{spawn_app, TEST_JWT_SECRET};
use chrono::{Duration, Utc};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::Arc;

const LIST: &str = "/api/admin/chat/active-sessions";

fn now() -> i64 {
    Utc::now().timestamp()
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims_for(admin_id: &str, issued: i64, expires: i64) -> Value {
    json!({ "sub": admin_id, "adminId": admin_id, "iat": issued, "exp": expires, "iss": "support-chat", "gen": 0 })
}

#[tokio::test]
async fn an_agent_signs_in_with_email_and_password() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam Smith").await;
    let signed_in = app
        .login(&agent.email.to_uppercase(), &agent.password)
        .await;
    let data = signed_in.data();
    assert_eq!(data["admin"]["adminId"], agent.admin_id.as_str());
    assert_eq!(data["admin"]["name"], "Sam Smith");
    assert_eq!(data["admin"]["email"], agent.email.as_str());
    let expires =
        chrono::DateTime::parse_from_rfc3339(data["expiresAt"].as_str().unwrap()).unwrap();
    let hours = (expires.with_timezone(&Utc) - Utc::now()).num_minutes() as f64 / 60.0;
    assert!((7.9..=8.0).contains(&hours), "8 hours, got {hours}");

    // The token's claims: sub and adminId (the same value), iat, exp.
    let payload = data["token"].as_str().unwrap().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["sub"], agent.admin_id.as_str());
    assert_eq!(claims["adminId"], agent.admin_id.as_str());
    assert_eq!(claims["gen"], 0, "the account's token generation");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    assert_eq!(
        app.admin_get(LIST, data["token"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn wrong_password_unknown_email_and_deactivated_account_look_the_same() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let retired = app.sign_up_agent("Retired").await;
    AdminAccounts::new(app.chat.store(), &SystemClock)
        .set_active(&retired.email, false)
        .await
        .unwrap();

    let wrong_password = app.login(&agent.email, "not the password at all").await;
    let unknown = app
        .login("nobody@support.example", "whatever password")
        .await;
    let deactivated = app.login(&retired.email, &retired.password).await;
    wrong_password.assert_error(401, "AUTH_FAILED");
    assert_eq!(wrong_password.body, unknown.body);
    assert_eq!(wrong_password.body, deactivated.body);

    app.login("", "").await.assert_error(401, "AUTH_FAILED");
    app.request("POST", "/api/admin/auth/login", &[], "{}")
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.request("POST", "/api/admin/auth/login", &[], "nope")
        .await
        .assert_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused_with_the_right_code() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let session = app.start_session("Ann").await;
    let id = agent.admin_id.as_str();

    // Missing credentials.
    app.request("GET", LIST, &[], "")
        .await
        .assert_error(401, "NO_TOKEN");
    app.request("GET", LIST, &[("authorization", "Bearer ")], "")
        .await
        .assert_error(401, "NO_TOKEN");
    app.request("GET", LIST, &[("authorization", &agent.token)], "")
        .await
        .assert_error(401, "NO_TOKEN");
    app.request("GET", LIST, &[("x-chat-token", &session.token)], "")
        .await
        .assert_error(401, "NO_TOKEN");

    // Bad tokens.
    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims_for(id, now(), now() + 3600).to_string());
    let unsigned = format!("{header_none}.{payload}.");
    let wrong_secret = sign(
        &claims_for(id, now(), now() + 3600),
        "a-different-secret-of-enough-length-0123456789",
    );
    let expired = sign(&claims_for(id, now() - 7200, now() - 3600), TEST_JWT_SECRET);
    let mut parts: Vec<String> = agent.token.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["exp"] = json!(now() + 365 * 86_400);
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = parts.join(".");
    let mismatched = sign(
        &json!({ "sub": id, "adminId": "adm_someone_else", "iat": now(), "exp": now() + 60, "iss": "support-chat", "gen": 0 }),
        TEST_JWT_SECRET,
    );
    for (what, token) in [
        ("alg none", unsigned.as_str()),
        ("wrong secret", &wrong_secret),
        ("expired", &expired),
        ("tampered claims", &tampered),
        ("sub and adminId disagree", &mismatched),
        ("a client token", &session.token),
        ("garbage", "abc.def.ghi"),
    ] {
        let response = app.admin_get(LIST, token).await;
        assert_eq!(
            (response.status, response.error_code()),
            (401, "AUTH_FAILED"),
            "{what}"
        );
    }

    // Valid signatures of admins who cannot act.
    let deleted = sign(
        &claims_for("adm_deleted_long_ago", now(), now() + 3600),
        TEST_JWT_SECRET,
    );
    app.admin_get(LIST, &deleted)
        .await
        .assert_error(401, "INVALID_ADMIN");
    let retired = app.sign_up_agent("Retired").await;
    AdminAccounts::new(app.chat.store(), &SystemClock)
        .set_active(&retired.email, false)
        .await
        .unwrap();
    app.admin_get(LIST, &retired.token)
        .await
        .assert_error(401, "INVALID_ADMIN");
}

#[tokio::test]
async fn a_password_reset_retires_earlier_tokens_at_once() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let accounts = AdminAccounts::new(app.chat.store(), &SystemClock);
    // In the same second as the sign-in, and whatever the ops machine's clock says.
    accounts
        .reset_password(&agent.email, "a brand new long password")
        .await
        .unwrap();
    app.admin_get(LIST, &agent.token)
        .await
        .assert_error(401, "INVALID_ADMIN");
    app.login(&agent.email, &agent.password)
        .await
        .assert_error(401, "AUTH_FAILED");
    let fresh = app.login(&agent.email, "a brand new long password").await;
    assert_eq!(
        app.admin_get(LIST, fresh.data()["token"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_deactivated_agent_is_locked_out_within_a_minute() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let clock = ManualClock::new(Utc::now());
    let auth = AdminAuth::new(
        TEST_JWT_SECRET.as_bytes(),
        Duration::hours(8),
        app.chat.store().clone(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let bearer = format!("Bearer {}", agent.token);
    assert!(auth.authenticate(Some(&bearer)).await.is_ok());

    AdminAccounts::new(app.chat.store(), &SystemClock)
        .set_active(&agent.email, false)
        .await
        .unwrap();
    clock.advance(Duration::seconds(59));
    assert!(
        auth.authenticate(Some(&bearer)).await.is_ok(),
        "cached for up to a minute"
    );
    clock.advance(Duration::seconds(2));
    assert!(matches!(
        auth.authenticate(Some(&bearer)).await,
        Err(AdminAuthError::InvalidAdmin)
    ));
}

#[tokio::test]
async fn re_activation_does_not_revive_the_tokens_a_deactivation_retired() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    let clock = ManualClock::new(Utc::now());
    let auth = AdminAuth::new(
        TEST_JWT_SECRET.as_bytes(),
        Duration::hours(8),
        app.chat.store().clone(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let bearer = format!("Bearer {}", agent.token);
    assert!(auth.authenticate(Some(&bearer)).await.is_ok());

    let accounts = AdminAccounts::new(app.chat.store(), &SystemClock);
    accounts.set_active(&agent.email, false).await.unwrap();
    let back = accounts.set_active(&agent.email, true).await.unwrap();
    assert_eq!(
        back.token_generation, 2,
        "each change moves the generation on"
    );
    // Once the cached record expires, the old token is dead although the account is active.
    clock.advance(Duration::seconds(ADMIN_CACHE_SECONDS + 1));
    assert!(matches!(
        auth.authenticate(Some(&bearer)).await,
        Err(AdminAuthError::InvalidAdmin)
    ));
    app.admin_get(LIST, &agent.token)
        .await
        .assert_error(401, "INVALID_ADMIN");

    // A new sign-in carries the new generation and works.
    let fresh = app.login(&agent.email, &agent.password).await;
    let token = fresh.data()["token"].as_str().unwrap();
    assert_eq!(app.admin_get(LIST, token).await.status, 200);
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["gen"], 2);
}

#[tokio::test]
async fn a_token_of_another_generation_is_refused_even_with_a_later_issue_time() {
    let app = spawn_app().await;
    let agent = app.sign_up_agent("Sam").await;
    AdminAccounts::new(app.chat.store(), &SystemClock)
        .reset_password(&agent.email, "another long password")
        .await
        .unwrap();
    // Issued "later" by a clock running ahead, but with the generation before the reset.
    let mut claims = claims_for(&agent.admin_id, now() + 3_600, now() + 7_200);
    let stale = sign(&claims, TEST_JWT_SECRET);
    app.admin_get(LIST, &stale)
        .await
        .assert_error(401, "INVALID_ADMIN");
    claims["gen"] = json!(1);
    claims["iat"] = json!(now());
    let current = sign(&claims, TEST_JWT_SECRET);
    assert_eq!(app.admin_get(LIST, &current).await.status, 200);
}
