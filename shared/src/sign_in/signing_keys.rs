//! The admin token signing secret, across rotations. Tokens are signed with the current
//! secret and accepted with the current or the previous one, and the secret is re-read every
//! few minutes, so putting a new secret value signs nobody out: tokens issued before it keep
//! working until they expire, and every instance signs with the new one within minutes.
//!
//! A token signed with a secret newer than this instance's copy (another instance re-read it
//! first) triggers an early re-read, at most every [`UNKNOWN_KEY_REREAD_SECONDS`].

use crate::clock::Clock;
use crate::config::{Secret, MIN_SECRET_BYTES};
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
mod tests;
