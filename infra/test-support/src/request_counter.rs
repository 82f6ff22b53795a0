//! Counts the DynamoDB requests a client sends, by operation, and the capacity units their
//! answers report (with [`chat_core::consumed_capacity::ConsumedCapacityLog`] asking for them).
//! The cost targets ("a poll is one Query") are checked with it, never with timers.

use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Attach with `aws_sdk_dynamodb::config::Builder::interceptor`; clones share their counts.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    units: Arc<Mutex<BTreeMap<String, f64>>>,
}

fn operation_name(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map(|m| m.name().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

impl RequestCounter {
    /// Requests sent so far, by operation name (`Query`, `TransactWriteItems`, ...).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().expect("counter lock").clone()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    /// Returns the counts so far and starts again from zero.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.counts.lock().expect("counter lock"))
    }

    /// Returns the capacity units reported so far, by operation, and starts again from zero.
    pub fn take_units(&self) -> BTreeMap<String, f64> {
        std::mem::take(&mut *self.units.lock().expect("counter lock"))
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    // Counted per transmitted attempt, so SDK retries show up too.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        *self
            .counts
            .lock()
            .expect("counter lock")
            .entry(operation_name(cfg))
            .or_default() += 1;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.response().body().bytes();
        if let Some(units) = body.and_then(chat_core::consumed_capacity::consumed_units) {
            *self
                .units
                .lock()
                .expect("counter lock")
                .entry(operation_name(cfg))
                .or_default() += units;
        }
        Ok(())
    }
}
