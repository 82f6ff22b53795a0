//! What a function needs, built once per cold start: configuration, the DynamoDB client with
//! its limits, the chat service and admin sign-in.

use crate::chat::ChatService;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::sign_in::auth::{AdminAuth, AdminAuthError};
use crate::sign_in::signing_keys::SigningKeys;
use crate::store::{ChatStore, ListHeadCache};
use std::sync::Arc;
use std::time::Duration;

/// How the DynamoDB client gives up, so that a throttled, slow or unreachable DynamoDB turns
/// into a 503 within [`DYNAMODB_ANSWER_BUDGET`] instead of the SDK's defaults (no attempt
/// timeout, backoff up to 20 s). DynamoDB answers in milliseconds when it is well.
pub mod dynamodb_limits {
    use std::time::Duration;

    /// Attempts per operation (the first and two retries), for throttling and broken connections.
    pub const MAX_ATTEMPTS: u32 = 3;
    pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
    pub const MAX_BACKOFF: Duration = Duration::from_millis(400);
    pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);
    /// One attempt, connecting included.
    pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1_500);
    /// One operation, every attempt and backoff included: what a failing request waits at most.
    pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2_500);
}

/// What the client must answer within when DynamoDB fails (`tests/api/faults.rs` asserts 6 s).
pub const DYNAMODB_ANSWER_BUDGET: Duration = Duration::from_secs(6);

/// Applies [`dynamodb_limits`] to a DynamoDB client configuration.
///
/// The SDK's stalled-stream protection is off: it gives up on a stalled body after a grace
/// period of 20 s ([`aws_smithy_runtime_api::client::stalled_stream_protection::DEFAULT_GRACE_PERIOD`]),
/// while [`dynamodb_limits::ATTEMPT_TIMEOUT`] ends any attempt, its body included, after 1.5 s,
/// so it could never act first. It only cost each request two body wrappers and their
/// interceptor work (docs/performance/handler-cpu.md).
pub fn with_dynamodb_limits(
    builder: aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::config::Builder {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
    use dynamodb_limits::*;
    builder
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(INITIAL_BACKOFF)
                .with_max_backoff(MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
}

/// The DynamoDB client every function uses: the standard AWS settings chain plus
/// [`dynamodb_config`].
pub fn dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = dynamodb_config(aws_sdk_dynamodb::config::Builder::from(sdk)).build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// What every function adds to the DynamoDB client's settings: the limits, and, only while
/// the capacity log is switched on (`LOG_LEVEL=info,dynamodb.capacity=debug`, read when the
/// client is built, after `telemetry::init`), each request's consumed capacity asked for and
/// logged. Switched off, request bodies go out exactly as the SDK wrote them: an ops
/// diagnostic costs nothing while nobody reads it. The handler benchmarks build their client
/// with it too.
pub fn dynamodb_config(
    builder: aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::config::Builder {
    let builder = with_dynamodb_limits(builder);
    if crate::consumed_capacity::logging_enabled() {
        builder.interceptor(crate::consumed_capacity::ConsumedCapacityLog)
    } else {
        builder
    }
}

pub struct App {
    pub chat: ChatService,
    admin_auth: Option<AdminAuth>,
}

impl App {
    /// Admin tokens signed with `config.admin_jwt_secret`, a secret that never changes.
    pub fn new(client: aws_sdk_dynamodb::Client, config: Config, clock: Arc<dyn Clock>) -> Self {
        let keys = config
            .admin_jwt_secret
            .as_ref()
            .and_then(|secret| SigningKeys::fixed(secret.expose().as_bytes(), clock.clone()).ok());
        Self::with_signing_keys(client, config, clock, keys)
    }

    /// Admin tokens signed with `keys` (a secret that rotates); none: admin sign-in refused.
    pub fn with_signing_keys(
        client: aws_sdk_dynamodb::Client,
        config: Config,
        clock: Arc<dyn Clock>,
        keys: Option<SigningKeys>,
    ) -> Self {
        let list_heads = ListHeadCache::new(config.list_head_cache, clock.clone());
        let store =
            ChatStore::new(client, config.table_name.clone()).with_list_head_cache(list_heads);
        let admin_auth = keys.map(|keys| {
            let ttl = chrono::Duration::hours(i64::from(config.admin_token_ttl_hours));
            AdminAuth::with_signing_keys(keys, ttl, store.clone(), clock.clone())
                .with_activity_retention_days(config.retention_days)
        });
        Self {
            chat: ChatService::new(store, clock, config),
            admin_auth,
        }
    }

    /// Admin login and token checks; refused where no signing secret was configured.
    pub fn admin_auth(&self) -> Result<&AdminAuth, AdminAuthError> {
        self.admin_auth
            .as_ref()
            .ok_or(AdminAuthError::NotConfigured)
    }

    /// Configuration from the environment; the DynamoDB client from the standard AWS chain
    /// (so `AWS_ENDPOINT_URL_DYNAMODB` points it at a local server; the root certificates are
    /// chosen before the runtime started, [`crate::runtime::start_with_system_roots`]). Admin functions read the
    /// signing secret named by `ADMIN_JWT_SECRET_ARN` now, and again every few minutes.
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = dynamodb_client(&sdk);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        #[cfg(feature = "secrets-manager")]
        let keys = match (
            &config.admin_jwt_secret,
            std::env::var("ADMIN_JWT_SECRET_ARN"),
        ) {
            (None, Ok(arn)) => {
                let source = crate::sign_in::signing_keys::SecretsManagerSource::new(
                    aws_sdk_secretsmanager::Client::new(&sdk),
                    arn,
                );
                Some(SigningKeys::load(Arc::new(source), clock.clone()).await?)
            }
            _ => None,
        };
        #[cfg(not(feature = "secrets-manager"))]
        let keys: Option<SigningKeys> = None;
        Ok(match keys {
            Some(keys) => Self::with_signing_keys(client, config, clock, Some(keys)),
            None => Self::new(client, config, clock),
        })
    }

    pub fn config(&self) -> &Config {
        self.chat.config()
    }
}

#[cfg(test)]
mod tests {
    use super::dynamodb_limits::*;
    use super::*;

    #[test]
    fn a_failing_dynamodb_operation_gives_up_well_within_the_answer_budget() {
        // The operation timeout caps every attempt and backoff together...
        assert!(OPERATION_TIMEOUT < DYNAMODB_ANSWER_BUDGET / 2);
        // ...and still leaves room for a retry after a timed-out attempt.
        assert!(ATTEMPT_TIMEOUT + INITIAL_BACKOFF < OPERATION_TIMEOUT);
        assert!(CONNECT_TIMEOUT <= ATTEMPT_TIMEOUT);
        const { assert!(MAX_ATTEMPTS >= 2) };

        let config = with_dynamodb_limits(aws_sdk_dynamodb::config::Builder::new()).build();
        let timeouts = config.timeout_config().expect("timeouts set");
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        let retries = config.retry_config().expect("retries set");
        assert_eq!(retries.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(retries.max_backoff(), MAX_BACKOFF);
    }

    #[test]
    fn the_attempt_timeout_stands_in_for_stalled_stream_protection() {
        use aws_smithy_runtime_api::client::stalled_stream_protection::DEFAULT_GRACE_PERIOD;
        // Protection switched off is only harmless while an attempt ends before it would act.
        assert!(ATTEMPT_TIMEOUT < DEFAULT_GRACE_PERIOD);
        let config = with_dynamodb_limits(aws_sdk_dynamodb::config::Builder::new()).build();
        let protection = config
            .stalled_stream_protection()
            .expect("stalled-stream protection set");
        assert!(!protection.upload_enabled() && !protection.download_enabled());
    }
}
