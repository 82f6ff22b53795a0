//! The admin token signing secret, across rotations. Tokens are signed with the current
//! secret and accepted with the current or the previous one, and the secret is re-read every
//! few minutes, so putting a new secret value signs nobody out: tokens issued before it keep
//! working until they expire, and every instance signs with the new one within minutes.
//!
//! A token signed with a secret newer than this instance's copy (another instance re-read it
//! first) triggers an early re-read, at most every [`UNKNOWN_KEY_REREAD_SECONDS`].

use crate::admin_auth::MIN_SECRET_BYTES;
use crate::clock::Clock;
use crate::config::Secret;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use thiserror::Error;

/// How old this instance's copy of the secret may get before it is read again.
pub const REREAD_SECONDS: i64 = 300;
/// The shortest time between two early re-reads caused by tokens no known secret signed
/// (bounds what a stream of forged tokens can cost).
pub const UNKNOWN_KEY_REREAD_SECONDS: i64 = 30;

#[derive(Debug, Error)]
pub enum SigningKeysError {
    #[error("the admin signing secret is shorter than {MIN_SECRET_BYTES} bytes")]
    TooShort,
    #[error("cannot read the admin signing secret: {0}")]
    Source(String),
}

/// Why a token was not accepted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenRejected {
    #[error("no known signing secret signed this token")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// The secret's versions that matter: the one to sign with, and the one before it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretVersions {
    pub current: Secret,
    pub previous: Option<Secret>,
}

/// Where the secret's versions come from (Secrets Manager on AWS).
pub trait SecretSource: Send + Sync + 'static {
    fn fetch(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<SecretVersions, SigningKeysError>> + Send + '_>>;
}

struct KeySet {
    versions: SecretVersions,
    signing: EncodingKey,
    verifying: Vec<DecodingKey>,
}

impl KeySet {
    fn new(versions: SecretVersions) -> Result<Self, SigningKeysError> {
        let current = versions.current.expose().as_bytes();
        if current.len() < MIN_SECRET_BYTES {
            return Err(SigningKeysError::TooShort);
        }
        let mut verifying = vec![DecodingKey::from_secret(current)];
        // A too-short previous value was never usable for signing: nothing to accept.
        if let Some(previous) = versions
            .previous
            .as_ref()
            .filter(|p| p.expose().len() >= MIN_SECRET_BYTES && *p != &versions.current)
        {
            verifying.push(DecodingKey::from_secret(previous.expose().as_bytes()));
        }
        Ok(Self {
            signing: EncodingKey::from_secret(current),
            verifying,
            versions,
        })
    }

    fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<T, TokenRejected> {
        for key in &self.verifying {
            match jsonwebtoken::decode::<T>(token, key, validation) {
                Ok(data) => return Ok(data.claims),
                Err(err) if matches!(err.kind(), ErrorKind::InvalidSignature) => continue,
                // The signature matched (or the token is malformed): another key will not help.
                Err(err) => return Err(TokenRejected::Invalid(err.to_string())),
            }
        }
        Err(TokenRejected::UnknownKey)
    }
}

struct State {
    keys: Arc<KeySet>,
    read_at: DateTime<Utc>,
    early_reread_at: Option<DateTime<Utc>>,
}

pub struct SigningKeys {
    source: Option<Arc<dyn SecretSource>>,
    clock: Arc<dyn Clock>,
    state: tokio::sync::Mutex<State>,
}

impl SigningKeys {
    /// One secret that never changes (tests, the local stack).
    pub fn fixed(secret: &[u8], clock: Arc<dyn Clock>) -> Result<Self, SigningKeysError> {
        let secret = std::str::from_utf8(secret)
            .map_err(|_| SigningKeysError::Source("not UTF-8".into()))?;
        let keys = KeySet::new(SecretVersions {
            current: Secret::new(secret),
            previous: None,
        })?;
        Ok(Self::with_keys(keys, None, clock))
    }

    /// Reads the secret now (a function's cold start fails if it cannot), and again later.
    pub async fn load(
        source: Arc<dyn SecretSource>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SigningKeysError> {
        let keys = KeySet::new(source.fetch().await?)?;
        Ok(Self::with_keys(keys, Some(source), clock))
    }

    fn with_keys(
        keys: KeySet,
        source: Option<Arc<dyn SecretSource>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let read_at = clock.now();
        Self {
            source,
            clock,
            state: tokio::sync::Mutex::new(State {
                keys: Arc::new(keys),
                read_at,
                early_reread_at: None,
            }),
        }
    }

    /// Signs `claims` with the current secret.
    pub async fn sign<T: Serialize>(
        &self,
        header: &Header,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let keys = self.keys().await;
        jsonwebtoken::encode(header, claims, &keys.signing)
    }

    /// The token's claims, if the current or the previous secret signed it and `validation`
    /// accepts it.
    pub async fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<T, TokenRejected> {
        let keys = self.keys().await;
        match keys.verify(token, validation) {
            Err(TokenRejected::UnknownKey) => match self.reread_early().await {
                Some(newer) => newer.verify(token, validation),
                None => Err(TokenRejected::UnknownKey),
            },
            other => other,
        }
    }

    /// The keys to use now, re-read first when this copy is older than [`REREAD_SECONDS`].
    async fn keys(&self) -> Arc<KeySet> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        if now - state.read_at >= Duration::seconds(REREAD_SECONDS) {
            self.reread(&mut state, now).await;
        }
        Arc::clone(&state.keys)
    }

    /// New keys, when a re-read now is allowed and found a different secret.
    async fn reread_early(&self) -> Option<Arc<KeySet>> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        let allowed = state
            .early_reread_at
            .is_none_or(|at| now - at >= Duration::seconds(UNKNOWN_KEY_REREAD_SECONDS));
        if self.source.is_none() || !allowed {
            return None;
        }
        state.early_reread_at = Some(now);
        self.reread(&mut state, now)
            .await
            .then(|| Arc::clone(&state.keys))
    }

    /// Reads the secret; true when it changed. A failed read keeps the keys it has (they were
    /// valid minutes ago) and waits a full interval before trying again.
    async fn reread(&self, state: &mut State, now: DateTime<Utc>) -> bool {
        let Some(source) = &self.source else {
            return false;
        };
        state.read_at = now;
        match source.fetch().await.and_then(KeySet::new) {
            Ok(keys) if keys.versions != state.keys.versions => {
                tracing::info!("admin signing secret changed; signing with the new one");
                state.keys = Arc::new(keys);
                true
            }
            Ok(_) => false,
            Err(err) => {
                tracing::warn!(error = %err, "admin signing secret re-read failed; keeping the one read before");
                false
            }
        }
    }
}

/// The secret's `AWSCURRENT` and `AWSPREVIOUS` versions in Secrets Manager. `put-secret-value`
/// moves the labels: the new value becomes current, the one it replaces previous.
#[cfg(feature = "secrets-manager")]
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

#[cfg(feature = "secrets-manager")]
impl SecretsManagerSource {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    async fn version(&self, stage: &str) -> Result<Option<Secret>, SigningKeysError> {
        let result = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(stage)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.secret_string.map(Secret::new)),
            // A secret that was never rotated has no AWSPREVIOUS.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(err) => Err(SigningKeysError::Source(format!(
                "{} ({stage}): {}",
                self.secret_id,
                aws_sdk_secretsmanager::error::DisplayErrorContext(err)
            ))),
        }
    }
}

#[cfg(feature = "secrets-manager")]
impl SecretSource for SecretsManagerSource {
    fn fetch(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<SecretVersions, SigningKeysError>> + Send + '_>> {
        Box::pin(async move {
            let current = self.version("AWSCURRENT").await?.ok_or_else(|| {
                SigningKeysError::Source(format!(
                    "{} has no AWSCURRENT string value",
                    self.secret_id
                ))
            })?;
            let previous = self.version("AWSPREVIOUS").await?;
            Ok(SecretVersions { current, previous })
        })
    }
}

#[cfg(test)]
mod tests {
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
        ) -> Pin<Box<dyn Future<Output = Result<SecretVersions, SigningKeysError>> + Send + '_>>
        {
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
}
