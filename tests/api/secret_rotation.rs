//! Rotating the admin signing secret in Secrets Manager signs nobody out (docs/operations/deploy.md, "Rotate
//! the signing secret"): the local server stands in for Secrets Manager, a manual clock for time.

use chat_core::sign_in::signing_keys::{SecretsManagerSource, SigningKeys, REREAD_SECONDS};
use chat_core::ManualClock;
use chat_tests::{secrets_manager_client, spawn_app_with_signing_keys, unique_name};
use chrono::{Duration, Utc};
use jsonwebtoken::{decode, encode, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use std::sync::Arc;

const LIST: &str = "/api/admin/chat/active-sessions";
const OLD: &str = "old-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789";
const NEW: &str = "new-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789";

fn signed_by(token: &str, secret: &str) -> bool {
    let mut validation = Validation::default();
    validation.set_issuer(&["support-chat"]);
    decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .is_ok()
}

#[tokio::test]
async fn after_put_secret_value_old_tokens_still_work_and_new_ones_use_the_new_secret() {
    let secrets = secrets_manager_client();
    let name = unique_name("admin-jwt");
    secrets
        .create_secret()
        .name(&name)
        .secret_string(OLD)
        .send()
        .await
        .expect("create the secret");
    let clock = ManualClock::new(Utc::now());
    let source = SecretsManagerSource::new(secrets.clone(), &name);
    let keys = SigningKeys::load(Arc::new(source), Arc::new(clock.clone()))
        .await
        .expect("read the secret");
    let app = spawn_app_with_signing_keys(keys).await;
    let agent = app.sign_up_agent("Rita").await;
    assert!(signed_by(&agent.token, OLD));

    // The documented rotation: one put-secret-value.
    secrets
        .put_secret_value()
        .secret_id(&name)
        .secret_string(NEW)
        .send()
        .await
        .expect("rotate");

    // Another instance re-read first and signed with the new secret: this one, whose copy is
    // still the old one, accepts that token at once.
    let now = Utc::now().timestamp();
    let from_other_instance = encode(
        &Header::default(),
        &json!({ "sub": agent.admin_id, "adminId": agent.admin_id, "iat": now, "exp": now + 3600, "iss": "support-chat", "gen": 0 }),
        &EncodingKey::from_secret(NEW.as_bytes()),
    )
    .unwrap();
    assert_eq!(app.admin_get(LIST, &from_other_instance).await.status, 200);

    clock.advance(Duration::seconds(REREAD_SECONDS));
    let signed_in = app.login(&agent.email, &agent.password).await;
    let fresh = signed_in.data()["token"].as_str().unwrap().to_owned();
    assert!(
        signed_by(&fresh, NEW),
        "new tokens are signed with AWSCURRENT"
    );
    assert!(!signed_by(&fresh, OLD));
    assert_eq!(app.admin_get(LIST, &fresh).await.status, 200);
    assert_eq!(
        app.admin_get(LIST, &agent.token).await.status,
        200,
        "a token signed before the rotation still works"
    );

    // A second rotation retires the first secret (docs/operations/deploy.md: at most one per
    // token lifetime).
    secrets
        .put_secret_value()
        .secret_id(&name)
        .secret_string(format!("{NEW}-third"))
        .send()
        .await
        .expect("rotate again");
    clock.advance(Duration::seconds(REREAD_SECONDS));
    app.admin_get(LIST, &agent.token)
        .await
        .assert_error(401, "AUTH_FAILED");
    assert_eq!(app.admin_get(LIST, &fresh).await.status, 200);
}
