//! Every function binary changes its environment (the root-certificate choice) before the tokio
//! runtime and its threads exist: `main` is a plain function that hands over to `chat_core`,
//! and only `chat_core::runtime` makes that choice.

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file outside its tests, without comments.
fn production_code(text: &str) -> String {
    text.lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_function_main_is_synchronous_and_starts_through_chat_core() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(repo().join("functions")).unwrap() {
        let main = entry.unwrap().path().join("src/main.rs");
        let code = production_code(&std::fs::read_to_string(&main).unwrap());
        let starts = [
            "chat_core::endpoint::lambda_main(",
            "chat_core::endpoint::files_main(",
            "chat_core::endpoint::socket_main(",
            "chat_core::endpoint::stream_main(",
            "chat_core::runtime::start_with_system_roots(",
        ];
        if code.contains("tokio::main")
            || code.contains("async fn main")
            || !code.contains("fn main()")
            || !starts.iter().any(|start| code.contains(start))
        {
            wrong.push(main.display().to_string());
        }
        checked += 1;
    }
    assert!(checked > 20, "found only {checked} functions");
    assert!(
        wrong.is_empty(),
        "a runtime already running when the environment changes: {wrong:?}"
    );
}

#[test]
fn only_the_process_start_chooses_the_root_certificates() {
    let mut files = Vec::new();
    rust_files(&repo().join("shared/src"), &mut files);
    rust_files(&repo().join("functions"), &mut files);
    let callers: Vec<String> = files
        .iter()
        .filter(|path| {
            let code = production_code(&std::fs::read_to_string(path).unwrap());
            code.contains("prefer_system_bundle()") && !code.contains("fn prefer_system_bundle()")
        })
        .map(|path| path.strip_prefix(repo()).unwrap().display().to_string())
        .collect();
    assert_eq!(callers, ["shared/src/runtime.rs"]);
}
