//! How a function's process starts: what must happen while it is the only thread, then the
//! tokio runtime (built as `#[tokio::main]` builds it) running the function to its end.
//!
//! Changing the environment is only sound while no other thread can read it (`set_var` is
//! `unsafe` from edition 2024 for that reason), and the runtime starts its worker threads as it
//! is built; so the root-certificate choice ([`crate::tls_roots`]) is made here, before.

use std::future::Future;

/// Runs `main` on a new multi-threaded tokio runtime.
pub fn start<F>(main: F) -> Result<(), lambda_http::Error>
where
    F: Future<Output = Result<(), lambda_http::Error>>,
{
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(main)
}

/// [`start`] for a function that talks to AWS: first points the SDK at the system's root
/// bundle, while this is still the process's only thread.
pub fn start_with_system_roots<F>(main: F) -> Result<(), lambda_http::Error>
where
    F: Future<Output = Result<(), lambda_http::Error>>,
{
    crate::tls_roots::prefer_system_bundle();
    start(main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_runs_to_its_end_on_a_multi_threaded_runtime() {
        let flavor = std::sync::Mutex::new(None);
        start(async {
            *flavor.lock().unwrap() = Some(tokio::runtime::Handle::current().runtime_flavor());
            Ok(())
        })
        .expect("runs");
        assert_eq!(
            *flavor.lock().unwrap(),
            Some(tokio::runtime::RuntimeFlavor::MultiThread)
        );
        let failed = start(async { Err("no table".into()) });
        assert_eq!(failed.unwrap_err().to_string(), "no table");
    }
}
