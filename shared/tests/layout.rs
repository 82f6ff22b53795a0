//! The shape of `shared/src`, checked so that it cannot drift silently: no file grows past
//! [`MAX_LINES`], and the table's key formats are spelled only under `shared/src/store/`
//! (test code excepted: it may show what a stored key or a recorded request looks like).

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

/// Every storage key format and fixed key of the single table.
const KEY_FORMATS: &[&str] = &[
    "SESSION#",
    "MSG#",
    "IDEM#",
    "ACT#",
    "ACTIVITY#",
    "ADMIN#",
    "ADMIN_EMAIL#",
    "LOGIN#",
    "STATS#",
    "\"COUNTER\"",
    "\"ACTIVE_SESSIONS\"",
    "\"HEALTH\"",
    "\"PRESENCE\"",
    "\"WAITING\"",
    "ASSIGNEE#",
    "\"UNASSIGNED\"",
];

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn shared_src() -> (PathBuf, Vec<PathBuf>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    (root, files)
}

/// The code of a file outside its tests, without comments.
fn production_code(path: &Path, text: &str) -> Vec<(usize, String)> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return Vec::new();
    }
    text.lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(i, line)| (i + 1, line.to_owned()))
        .collect()
}

#[test]
fn no_file_in_shared_src_is_over_the_line_limit() {
    let (root, files) = shared_src();
    let too_long: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            (lines > MAX_LINES)
                .then(|| format!("{}: {lines}", path.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    assert!(
        too_long.is_empty(),
        "over {MAX_LINES} lines (split it by what it is about): {too_long:?}"
    );
}

#[test]
fn storage_keys_are_spelled_only_in_the_store() {
    let (root, files) = shared_src();
    let store = root.join("store");
    let mut misplaced = Vec::new();
    for path in files.iter().filter(|p| !p.starts_with(&store)) {
        let text = std::fs::read_to_string(path).unwrap();
        for (number, line) in production_code(path, &text) {
            if let Some(key) = KEY_FORMATS.iter().find(|key| line.contains(*key)) {
                let file = path.strip_prefix(&root).unwrap().display();
                misplaced.push(format!("{file}:{number}: {key}"));
            }
        }
    }
    assert!(
        misplaced.is_empty(),
        "storage keys outside shared/src/store (build them with store::keys or an item's constructor): {misplaced:?}"
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    // The store itself spells every key format, so the scan would find them there.
    let (root, files) = shared_src();
    let keys = std::fs::read_to_string(root.join("store/keys.rs")).unwrap();
    for key in KEY_FORMATS {
        assert!(keys.contains(key), "{key} is not in store/keys.rs");
    }
    assert!(files.iter().any(|p| p.ends_with("chat/mod.rs")));
}
