//! Every frame the push channel sends a client, as sent: the local gateway hands each one
//! (a post to `@connections`, a route's answer) to [`record`]; once the test suite has chosen
//! a file ([`record_to`]), they are appended there, one JSON line each, and
//! `infra/checks/asyncapi_check.py` checks them against docs/asyncapi.yaml.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

static FILE: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// Appends every frame sent from now on to `file` (its directory is created).
pub fn record_to(file: PathBuf) {
    FILE.get_or_init(|| {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).expect("a directory for the frames");
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .expect("the frames file");
        Mutex::new(file)
    });
}

/// One frame a client is sent; a no-op unless a file was chosen.
pub fn record(frame: &str) {
    if let Some(file) = FILE.get() {
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        // One line per frame: a frame is JSON text, so no newline of its own.
        let _ = writeln!(file, "{}", frame.replace('\n', " "));
    }
}
