use super::*;
use crate::clock::ManualClock;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const A: &str = "secret-a-0123456789abcdefghijklmnopqrstuvwxyz";
const B: &str = "secret-b-0123456789abcdefghijklmnopqrstuvwxyz";
const C: &str = "secret-c-0123456789abcdefghijklmnopqrstuvwxyz";

/// Secrets Manager in memory: `rotate` is what put-secret-value does to the labels.
#[derive(Default)]
struct FakeSource {
    versions: Mutex<Option<SecretVersions>>,
    failing: Mutex<bool>,
    reads: AtomicUsize,
}

impl FakeSource {
    fn holding(current: &str) -> Arc<Self> {
        let source = Self::default();
        *source.versions.lock().unwrap() = Some(SecretVersions {
            current: Secret::new(current),
            previous: None,
        });
        Arc::new(source)
    }

    fn rotate(&self, new: &str) {
        let mut versions = self.versions.lock().unwrap();
        let old = versions.take().unwrap();
        *versions = Some(SecretVersions {
            current: Secret::new(new),
            previous: Some(old.current),
        });
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl SecretSource for FakeSource {
    fn fetch(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<SecretVersions, SigningKeysError>> + Send + '_>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let result = if *self.failing.lock().unwrap() {
            Err(SigningKeysError::Source("unavailable".into()))
        } else {
            Ok(self.versions.lock().unwrap().clone().unwrap())
        };
        Box::pin(async move { result })
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    sub: String,
    exp: i64,
}

fn claims() -> Claims {
    Claims {
        sub: "admin_1".into(),
        exp: Utc::now().timestamp() + 3600,
    }
}

fn validation() -> Validation {
    Validation::new(Algorithm::HS256)
}

fn signed_with(secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &claims(),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn verifies_with(token: &str, secret: &str) -> bool {
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation(),
    )
    .is_ok()
}

async fn loaded(source: &Arc<FakeSource>) -> (SigningKeys, ManualClock) {
    let clock = ManualClock::new(Utc::now());
    let keys = SigningKeys::load(source.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    (keys, clock)
}

#[tokio::test]
async fn after_a_rotation_old_tokens_verify_and_new_ones_use_the_new_secret() {
    let source = FakeSource::holding(A);
    let (keys, clock) = loaded(&source).await;
    let before = keys.sign(&Header::default(), &claims()).await.unwrap();
    assert!(verifies_with(&before, A));

    source.rotate(B);
    // Within the interval this instance still signs with A; both verify everywhere.
    clock.advance(Duration::seconds(REREAD_SECONDS - 1));
    assert!(verifies_with(
        &keys.sign(&Header::default(), &claims()).await.unwrap(),
        A
    ));
    clock.advance(Duration::seconds(1));
    let after = keys.sign(&Header::default(), &claims()).await.unwrap();
    assert!(
        verifies_with(&after, B),
        "signs with AWSCURRENT once re-read"
    );
    assert_eq!(
        keys.verify::<Claims>(&before, &validation()).await,
        Ok(claims_of(&before, A))
    );
    assert_eq!(
        keys.verify::<Claims>(&after, &validation()).await,
        Ok(claims_of(&after, B))
    );

    // A second rotation retires A: its tokens are refused, B's still accepted.
    source.rotate(C);
    clock.advance(Duration::seconds(REREAD_SECONDS));
    assert_eq!(
        keys.verify::<Claims>(&before, &validation()).await,
        Err(TokenRejected::UnknownKey)
    );
    assert!(keys.verify::<Claims>(&after, &validation()).await.is_ok());
}

fn claims_of(token: &str, secret: &str) -> Claims {
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation(),
    )
    .unwrap()
    .claims
}

#[tokio::test]
async fn the_secret_is_read_again_only_every_interval() {
    let source = FakeSource::holding(A);
    let (keys, clock) = loaded(&source).await;
    for _ in 0..10 {
        keys.sign(&Header::default(), &claims()).await.unwrap();
        clock.advance(Duration::seconds(20));
    }
    assert_eq!(source.reads(), 1, "200 s: only the cold-start read");
    clock.advance(Duration::seconds(100));
    keys.sign(&Header::default(), &claims()).await.unwrap();
    assert_eq!(source.reads(), 2);
}

#[tokio::test]
async fn a_token_from_a_newer_secret_triggers_an_early_reread_at_most_every_30_s() {
    let source = FakeSource::holding(A);
    let (keys, clock) = loaded(&source).await;
    // Another instance already signs with B.
    source.rotate(B);
    let from_b = signed_with(B);
    assert!(keys.verify::<Claims>(&from_b, &validation()).await.is_ok());
    assert_eq!(source.reads(), 2);

    // Forged tokens: one early read, then none for 30 s.
    let forged = signed_with(C);
    assert_eq!(
        keys.verify::<Claims>(&forged, &validation()).await,
        Err(TokenRejected::UnknownKey)
    );
    assert_eq!(
        keys.verify::<Claims>(&forged, &validation()).await,
        Err(TokenRejected::UnknownKey)
    );
    assert_eq!(
        source.reads(),
        2,
        "the early re-read for B counts; no second within 30 s"
    );
    clock.advance(Duration::seconds(UNKNOWN_KEY_REREAD_SECONDS));
    assert_eq!(
        keys.verify::<Claims>(&forged, &validation()).await,
        Err(TokenRejected::UnknownKey)
    );
    assert_eq!(source.reads(), 3);
}

#[tokio::test]
async fn a_failed_reread_keeps_the_keys_it_had() {
    let source = FakeSource::holding(A);
    let (keys, clock) = loaded(&source).await;
    let token = signed_with(A);
    *source.failing.lock().unwrap() = true;
    clock.advance(Duration::seconds(REREAD_SECONDS));
    assert!(keys.verify::<Claims>(&token, &validation()).await.is_ok());
    assert!(verifies_with(
        &keys.sign(&Header::default(), &claims()).await.unwrap(),
        A
    ));
}

#[tokio::test]
async fn a_fixed_secret_never_changes_and_must_be_long_enough() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
    assert!(matches!(
        SigningKeys::fixed(b"short", clock.clone()),
        Err(SigningKeysError::TooShort)
    ));
    let keys = SigningKeys::fixed(A.as_bytes(), clock).unwrap();
    assert!(keys
        .verify::<Claims>(&signed_with(A), &validation())
        .await
        .is_ok());
    assert_eq!(
        keys.verify::<Claims>(&signed_with(B), &validation()).await,
        Err(TokenRejected::UnknownKey)
    );
    let expired = jsonwebtoken::encode(
        &Header::default(),
        &Claims {
            sub: "x".into(),
            exp: 1,
        },
        &EncodingKey::from_secret(A.as_bytes()),
    )
    .unwrap();
    assert!(matches!(
        keys.verify::<Claims>(&expired, &validation()).await,
        Err(TokenRejected::Invalid(_))
    ));
}
