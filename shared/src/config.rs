//! Deploy-time settings, read once per cold start from the environment.

use std::env;
use thiserror::Error;

#[derive(Debug, Clone)]
pub struct Config {
    /// The single DynamoDB table.
    pub table_name: String,
    /// When false (only during the mobile app's migration), client calls without an
    /// `X-Chat-Token` header are accepted with a warning. A wrong token is refused either way.
    pub require_client_token: bool,
    /// Longest accepted chat message, in characters.
    pub max_message_chars: usize,
    /// Days ended sessions and their messages are kept before DynamoDB's TTL removes them.
    pub retention_days: u32,
    /// Origin allowed to call the API from a browser (the admin dashboard), if any.
    pub cors_allow_origin: Option<String>,
    /// Signs admin tokens. Only the admin functions get one.
    pub admin_jwt_secret: Option<Secret>,
    /// How long an admin token is valid.
    pub admin_token_ttl_hours: u32,
    /// A session whose client has not been heard from (no poll, no send) for this long is
    /// ended by the idle sweep.
    pub idle_timeout: std::time::Duration,
    /// How long a function instance keeps the head (first keys) of the lists every dashboard
    /// reads (zero: not at all); see `store::ListHeadCache`.
    pub list_head_cache: std::time::Duration,
    /// The push channel's WebSocket URL (`wss://…/v1`), returned with each ticket; none: the
    /// ticket endpoints answer 503 (push not deployed) and clients poll.
    pub push_url: Option<String>,
    /// A list hint (`lists.changed`) goes to every agent at most this often.
    pub list_hint_interval: std::time::Duration,
}

/// The shortest admin signing secret accepted (HS256 wants at least its output size): checked
/// here for the deployed secret and by the signing keys for every rotated version.
pub const MIN_SECRET_BYTES: usize = 32;

/// A value that must never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required")]
    Missing { name: &'static str },
    #[error("environment variable {name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
}

impl Config {
    pub const DEFAULT_MAX_MESSAGE_CHARS: usize = 5_000;
    pub const DEFAULT_RETENTION_DAYS: u32 = 90;
    pub const DEFAULT_ADMIN_TOKEN_TTL_HOURS: u32 = 8;
    pub const DEFAULT_IDLE_TIMEOUT_MINUTES: u64 = 10;
    /// A fifth of the dashboard's 5 s refresh: each dashboard still sees a new chat on its
    /// next refresh but one.
    pub const DEFAULT_LIST_HEAD_CACHE_MS: u64 = 1_000;
    /// One `lists.changed` per agent per 2 s, whatever the number of chats (decision 0009).
    pub const DEFAULT_LIST_HINT_MS: u64 = 2_000;

    /// `IDLE_TIMEOUT_SECONDS` (for tests and the local stack) wins over `IDLE_TIMEOUT_MINUTES`
    /// (the template parameter).
    fn idle_timeout_from_env() -> Result<std::time::Duration, ConfigError> {
        let seconds = parse_var("IDLE_TIMEOUT_SECONDS", 0u64, |v| {
            v.parse().ok().filter(|n| (1..=7 * 24 * 3600).contains(n))
        })?;
        if seconds > 0 {
            return Ok(std::time::Duration::from_secs(seconds));
        }
        let minutes = parse_var(
            "IDLE_TIMEOUT_MINUTES",
            Self::DEFAULT_IDLE_TIMEOUT_MINUTES,
            |v| v.parse().ok().filter(|n| (1..=7 * 24 * 60).contains(n)),
        )?;
        Ok(std::time::Duration::from_secs(minutes * 60))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env::var("TABLE_NAME")
                .map_err(|_| ConfigError::Missing { name: "TABLE_NAME" })?,
            require_client_token: parse_var("REQUIRE_CLIENT_TOKEN", true, parse_bool)?,
            max_message_chars: parse_var(
                "MAX_MESSAGE_CHARS",
                Self::DEFAULT_MAX_MESSAGE_CHARS,
                |v| v.parse().ok().filter(|n| *n > 0),
            )?,
            retention_days: parse_var("RETENTION_DAYS", Self::DEFAULT_RETENTION_DAYS, |v| {
                v.parse().ok().filter(|n| *n > 0)
            })?,
            cors_allow_origin: env::var("CORS_ALLOW_ORIGIN").ok().filter(|v| !v.is_empty()),
            admin_jwt_secret: match env::var("ADMIN_JWT_SECRET") {
                Ok(value) if value.len() >= MIN_SECRET_BYTES => Some(Secret::new(value)),
                Ok(value) if !value.is_empty() => {
                    return Err(ConfigError::Invalid {
                        name: "ADMIN_JWT_SECRET",
                        value: "<redacted>".to_owned(),
                        reason: "must be at least 32 bytes",
                    })
                }
                _ => None,
            },
            admin_token_ttl_hours: parse_var(
                "ADMIN_TOKEN_TTL_HOURS",
                Self::DEFAULT_ADMIN_TOKEN_TTL_HOURS,
                |v| v.parse().ok().filter(|n| (1..=24 * 7).contains(n)),
            )?,
            idle_timeout: Self::idle_timeout_from_env()?,
            list_head_cache: std::time::Duration::from_millis(parse_var(
                "LIST_HEAD_CACHE_MS",
                Self::DEFAULT_LIST_HEAD_CACHE_MS,
                |v| v.parse().ok().filter(|n| *n <= 10_000),
            )?),
            push_url: env::var("PUSH_URL").ok().filter(|v| !v.is_empty()),
            list_hint_interval: std::time::Duration::from_millis(parse_var(
                "LIST_HINT_MS",
                Self::DEFAULT_LIST_HINT_MS,
                |v| v.parse().ok().filter(|n| *n <= 60_000),
            )?),
        })
    }

    /// Settings for tests and the local stack: everything at its production default.
    pub fn for_table(table_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            require_client_token: true,
            max_message_chars: Self::DEFAULT_MAX_MESSAGE_CHARS,
            retention_days: Self::DEFAULT_RETENTION_DAYS,
            cors_allow_origin: None,
            admin_jwt_secret: None,
            admin_token_ttl_hours: Self::DEFAULT_ADMIN_TOKEN_TTL_HOURS,
            idle_timeout: std::time::Duration::from_secs(Self::DEFAULT_IDLE_TIMEOUT_MINUTES * 60),
            list_head_cache: std::time::Duration::from_millis(Self::DEFAULT_LIST_HEAD_CACHE_MS),
            push_url: None,
            list_hint_interval: std::time::Duration::from_millis(Self::DEFAULT_LIST_HINT_MS),
        }
    }
}

fn parse_var<T>(
    name: &'static str,
    default: T,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    match env::var(name) {
        Err(_) => Ok(default),
        Ok(value) if value.trim().is_empty() => Ok(default),
        Ok(value) => parse(value.trim()).ok_or(ConfigError::Invalid {
            name,
            value,
            reason: "not an accepted value",
        }),
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_bool;

    #[test]
    fn switches_accept_the_usual_spellings_and_nothing_else() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("off"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }
}
