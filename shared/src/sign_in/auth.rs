//! Support agents: passwords, login, and the admin check that every admin endpoint runs.

use crate::clock::{iso8601, Clock};
use crate::ids::random_bytes;
use crate::sign_in::lockout::{self, email_hash, locked_until, seconds_until};
use crate::sign_in::signing_keys::SigningKeys;
use crate::store::items::{ActivityAction, ActivityItem, ActivitySubject, AdminItem};
use crate::store::sign_in::{SignInFailure, SignInFailuresItem};
use crate::store::{ChatStore, StoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use thiserror::Error;

/// How long a verified admin record is trusted before it is read again: a deactivated agent is
/// locked out within this time, and a busy dashboard costs one read per minute, not per call.
pub const ADMIN_CACHE_SECONDS: i64 = 60;
const ISSUER: &str = "support-chat";

#[derive(Debug, Error)]
pub enum AdminAuthError {
    #[error("authentication token required")]
    NoToken,
    #[error("authentication failed")]
    AuthFailed,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("invalid or inactive admin account")]
    InvalidAdmin,
    #[error("too many failed sign-in attempts for this email, try again later")]
    TooManyAttempts { retry_after_seconds: u64 },
    #[error("admin sign-in is not configured on this deployment")]
    NotConfigured,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a new password or email was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("a password must be 12 to 256 characters")]
    WeakPassword,
    #[error("not an email address")]
    BadEmail,
}

/// Lower case, trimmed, plausibly an address.
pub fn normalize_email(raw: &str) -> Result<String, CredentialError> {
    let email = raw.trim().to_lowercase();
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    plausible.then_some(email).ok_or(CredentialError::BadEmail)
}

/// argon2id with the crate's recommended parameters (19 MiB, 2 passes), random salt.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    if !(12..=256).contains(&password.chars().count()) {
        return Err(CredentialError::WeakPassword);
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes is a valid salt");
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Checked against when the email is unknown, so that answer takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no-such-admin-placeholder").expect("valid placeholder"));

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    sub: String,
    /// The `adminId` claim, kept for dashboards that read it; always equal to `sub`.
    admin_id: String,
    iat: i64,
    exp: i64,
    iss: String,
    /// The admin's `tokenGeneration` at sign-in; any other value is a retired token.
    #[serde(rename = "gen")]
    generation: u64,
}

/// An agent whose token was verified just now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedAdmin {
    pub admin_id: String,
    pub name: String,
    pub email: String,
    /// The token generation the token was issued under (what a push ticket carries on).
    #[serde(skip)]
    pub token_generation: u64,
}

impl From<&AdminItem> for VerifiedAdmin {
    fn from(item: &AdminItem) -> Self {
        Self {
            admin_id: item.admin_id.clone(),
            name: item.name.clone(),
            email: item.email.clone(),
            token_generation: item.token_generation,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    pub token: String,
    pub expires_at: String,
    pub admin: VerifiedAdmin,
}

pub struct AdminAuth {
    keys: SigningKeys,
    validation: Validation,
    token_ttl: Duration,
    store: ChatStore,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, (AdminItem, DateTime<Utc>)>>,
    /// How long activity-log entries (sign-in locks) are kept.
    activity_retention: Duration,
}

impl AdminAuth {
    pub fn new(
        secret: &[u8],
        token_ttl: Duration,
        store: ChatStore,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AdminAuthError> {
        let keys =
            SigningKeys::fixed(secret, clock.clone()).map_err(|_| AdminAuthError::NotConfigured)?;
        Ok(Self::with_signing_keys(keys, token_ttl, store, clock))
    }

    /// With a secret that rotates (`signing_keys`): signs with the current one, accepts the
    /// previous one too.
    pub fn with_signing_keys(
        keys: SigningKeys,
        token_ttl: Duration,
        store: ChatStore,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // Only HS256, whatever the token's header claims: no `none`, no algorithm confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.leeway = 5;
        Self {
            keys,
            validation,
            token_ttl,
            store,
            clock,
            cache: Mutex::new(HashMap::new()),
            activity_retention: Duration::days(i64::from(
                crate::config::Config::DEFAULT_RETENTION_DAYS,
            )),
        }
    }

    /// Keeps activity-log entries this many days (the deployment's retention).
    pub fn with_activity_retention_days(mut self, days: u32) -> Self {
        self.activity_retention = Duration::days(i64::from(days));
        self
    }

    /// Email and password to a signed token. Unknown email, wrong password and deactivated
    /// account all get the same answer after the same work; so does a locked email, whether
    /// or not it has an account (`source_ip` is only logged).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        source_ip: Option<&str>,
    ) -> Result<LoginResult, AdminAuthError> {
        let now = self.clock.now();
        let email_hash = email_hash(email);
        let failures = self.store.sign_in_failures(&email_hash).await?;
        if let Some(until) = failures.as_ref().and_then(|f| locked_until(f, now)) {
            tracing::warn!(
                email_hash,
                source_ip = source_ip.unwrap_or("unknown"),
                "sign-in refused: too many failed attempts"
            );
            return Err(AdminAuthError::TooManyAttempts {
                retry_after_seconds: seconds_until(until, now),
            });
        }
        let admin = match normalize_email(email) {
            Ok(email) => self.store.admin_by_email(&email).await?,
            Err(_) => None,
        };
        let password_ok = match &admin {
            Some(admin) => verify_password(password, &admin.password_hash),
            None => verify_password(password, &DUMMY_HASH),
        };
        let admin = match admin {
            Some(admin) if password_ok && admin.active => admin,
            other => {
                let account = other.as_ref().map(|a| a.admin_id.as_str());
                self.count_failure(&email_hash, failures.as_ref(), account, source_ip)
                    .await?;
                return Err(AdminAuthError::InvalidCredentials);
            }
        };
        if failures.is_some() {
            self.store.clear_sign_in_failures(&email_hash).await?;
        }
        let expires = now + self.token_ttl;
        let claims = Claims {
            sub: admin.admin_id.clone(),
            admin_id: admin.admin_id.clone(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            iss: ISSUER.to_owned(),
            generation: admin.token_generation,
        };
        let token = self
            .keys
            .sign(&Header::new(Algorithm::HS256), &claims)
            .await
            .map_err(|_| AdminAuthError::NotConfigured)?;
        Ok(LoginResult {
            token,
            expires_at: iso8601(expires),
            admin: VerifiedAdmin::from(&admin),
        })
    }

    /// The admin check every admin endpoint runs: a valid bearer token of an existing, active
    /// admin.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
    ) -> Result<VerifiedAdmin, AdminAuthError> {
        let token = authorization
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(AdminAuthError::NoToken)?;
        let claims = self
            .keys
            .verify::<Claims>(token, &self.validation)
            .await
            .map_err(|_| AdminAuthError::AuthFailed)?;
        if claims.admin_id != claims.sub {
            return Err(AdminAuthError::AuthFailed);
        }
        // Deactivation, re-activation and a password reset each move the generation on, so
        // a token issued before any of them never works again (no clocks involved).
        let admin = self
            .current_admin(&claims.sub)
            .await?
            .filter(|admin| admin.active && admin.token_generation == claims.generation)
            .ok_or(AdminAuthError::InvalidAdmin)?;
        Ok(VerifiedAdmin::from(&admin))
    }

    /// Counts a failed sign-in, logs it, and records the lock it causes in the activity log.
    async fn count_failure(
        &self,
        email_hash: &str,
        seen: Option<&SignInFailuresItem>,
        admin_id: Option<&str>,
        source_ip: Option<&str>,
    ) -> Result<(), AdminAuthError> {
        let now = self.clock.now();
        let failures = self
            .store
            .record_sign_in_failure(
                SignInFailure {
                    email_hash,
                    at: now.timestamp_millis(),
                    window: lockout::window().num_milliseconds(),
                    expires_at: (now + lockout::window() + Duration::hours(1)).timestamp(),
                },
                seen,
            )
            .await?;
        let source_ip = source_ip.unwrap_or("unknown");
        tracing::warn!(email_hash, source_ip, failures, "failed sign-in");
        // Exactly one failure reaches the limit (the count is atomic): one entry per lock.
        if failures != lockout::MAX_FAILURES {
            return Ok(());
        }
        tracing::warn!(email_hash, source_ip, "sign-in locked for this email");
        // Unknown emails have no account to log against; the log line above is their record.
        let Some(admin_id) = admin_id else {
            return Ok(());
        };
        let entry = ActivityItem::new(
            admin_id,
            ActivitySubject::Account,
            ActivityAction::SignInLocked,
            serde_json::json!({
                "failures": failures,
                "sourceIp": source_ip,
                "lockedUntil": iso8601(now + lockout::window()),
            }),
            now,
            (now + self.activity_retention).timestamp(),
        );
        self.store.put_activity(&entry).await?;
        Ok(())
    }

    async fn current_admin(&self, admin_id: &str) -> Result<Option<AdminItem>, AdminAuthError> {
        let now = self.clock.now();
        if let Some((admin, read_at)) = self.cache.lock().expect("cache lock").get(admin_id) {
            if now - *read_at < Duration::seconds(ADMIN_CACHE_SECONDS) {
                return Ok(Some(admin.clone()));
            }
        }
        let admin = self.store.admin(admin_id).await?;
        let mut cache = self.cache.lock().expect("cache lock");
        match &admin {
            Some(admin) => cache.insert(admin_id.to_owned(), (admin.clone(), now)),
            None => cache.remove(admin_id),
        };
        Ok(admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_eq!(hash_password("short"), Err(CredentialError::WeakPassword));
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        assert!(normalize_email("no-at-sign").is_err());
        assert!(normalize_email("a b@c.d").is_err());
        assert!(normalize_email("@c.d").is_err());
    }
}
