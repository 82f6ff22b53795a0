//! Where the AWS SDK's HTTPS client finds the root certificates it trusts.
//!
//! Left to itself it looks for them the way OpenSSL does: the system's bundle file and then
//! every file of the certificate directory (about 290 on Debian), each read and decoded, then
//! de-duplicated. That was 3.7 ms of the 4.1 ms `aws_config::load_defaults` took at cold
//! start, the largest part of init that is neither I/O nor Lambda's own; the bundle alone holds
//! the same certificates and reads in 0.8 ms (docs/performance/cold-start-init.md).

use std::io::Read;
use std::path::Path;

/// Where the system keeps its bundle: Amazon Linux 2023 (Lambda's `provided.al2023`), then
/// Debian and Ubuntu (this machine, CI).
pub const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
];

/// The bundle the SDK should read alone: the first of `candidates` that holds a certificate.
/// `None` where an operator already chose (`SSL_CERT_FILE` or `SSL_CERT_DIR` set, `chosen`)
/// or no bundle is found: then the SDK looks as it always does.
pub fn bundle_to_use<'a>(chosen: bool, candidates: &[&'a str]) -> Option<&'a str> {
    if chosen {
        return None;
    }
    candidates
        .iter()
        .copied()
        .find(|path| starts_with_a_certificate(Path::new(path)))
}

/// Whether a certificate begins in the file's first 64 KiB (bundles open with one, perhaps
/// after a few comment lines); reads no more than that.
fn starts_with_a_certificate(path: &Path) -> bool {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(64 * 1024).read_to_end(&mut head))
        .is_ok_and(|_| {
            head.windows(27)
                .any(|w| w == b"-----BEGIN CERTIFICATE-----")
        })
}

/// Points the SDK's certificate loading (rustls-native-certs, `SSL_CERT_FILE`) at the system
/// bundle. It changes the environment, so call it only while the process has one thread:
/// [`crate::runtime::start_with_system_roots`] does, before the tokio runtime is built.
pub fn prefer_system_bundle() {
    let chosen = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if let Some(bundle) = bundle_to_use(chosen, &SYSTEM_BUNDLES) {
        std::env::set_var("SSL_CERT_FILE", bundle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> String {
        let path = std::env::temp_dir().join(format!("tls-roots-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("temp file");
        path.to_str().expect("utf-8 path").to_owned()
    }

    #[test]
    fn the_first_bundle_holding_a_certificate_is_used() {
        let empty = file("empty.pem", "");
        let bundle = file(
            "bundle.pem",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        );
        let candidates = ["/nonexistent/ca.pem", empty.as_str(), bundle.as_str()];
        assert_eq!(bundle_to_use(false, &candidates), Some(bundle.as_str()));
        assert_eq!(bundle_to_use(false, &candidates[..2]), None);
    }

    #[test]
    fn an_operator_choice_is_left_alone() {
        let bundle = file(
            "chosen.pem",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        );
        assert_eq!(bundle_to_use(true, &[bundle.as_str()]), None);
    }
}
