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

/// The module a `crate::a::b::Item` path names, as the file that holds it (the longest prefix
/// of the path that is a module file under `root`).
fn module_file(root: &Path, segments: &[&str]) -> Option<PathBuf> {
    (1..=segments.len()).rev().find_map(|n| {
        let dir = segments[..n].iter().collect::<PathBuf>();
        [
            root.join(&dir).with_extension("rs"),
            root.join(&dir).join("mod.rs"),
        ]
        .into_iter()
        .find(|file| file.is_file())
    })
}

/// The module path of a file under `root` (`store/stats.rs` -> `["store", "stats"]`).
fn module_path(root: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let mut path: Vec<String> = relative
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if matches!(
        path.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        path.pop();
    }
    path
}

/// Which module files each file of `root` takes names from (`crate::` and `super::` paths),
/// leaving out a module's own ancestors and descendants (declaring and re-exporting children
/// is how a module is built, not a dependency between peers).
fn imports(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut files = Vec::new();
    source_files(root, &mut files);
    let mut edges = Vec::new();
    for file in &files {
        let own = module_path(root, file);
        let text = std::fs::read_to_string(file).unwrap();
        for (_, line) in production_code(file, &text) {
            for (start, _) in line
                .match_indices("crate::")
                .chain(line.match_indices("super::"))
            {
                let rest = &line[start..];
                let path: Vec<&str> = rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap()
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .collect();
                let mut target: Vec<String> = if path[0] == "crate" {
                    Vec::new()
                } else {
                    own.clone()
                };
                let mut names = &path[..];
                while let Some((&"super", tail)) = names.split_first() {
                    target.pop();
                    names = tail;
                }
                if let Some((&"crate", tail)) = names.split_first() {
                    names = tail;
                }
                target.extend(names.iter().map(|s| s.to_string()));
                let segments: Vec<&str> = target.iter().map(String::as_str).collect();
                let Some(to) = module_file(root, &segments) else {
                    continue;
                };
                let to_path = module_path(root, &to);
                let related = own.starts_with(&to_path) || to_path.starts_with(&own);
                if !related {
                    edges.push((file.clone(), to));
                }
            }
        }
    }
    edges.sort();
    edges.dedup();
    edges
}

/// A cycle among the import edges, if any (as the files in it).
fn find_cycle(edges: &[(PathBuf, PathBuf)]) -> Option<Vec<PathBuf>> {
    fn visit(
        node: &PathBuf,
        edges: &[(PathBuf, PathBuf)],
        stack: &mut Vec<PathBuf>,
        done: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            return Some(stack[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for (_, to) in edges.iter().filter(|(from, _)| from == node) {
            if let Some(cycle) = visit(to, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.push(node.clone());
        None
    }
    let mut done = Vec::new();
    edges
        .iter()
        .find_map(|(from, _)| visit(from, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_modules_import_each_other_and_the_store_never_imports_the_rules() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for crate_src in ["shared/src", "infra/loadgen/src", "infra/local-api/src"] {
        let root = repo.join(crate_src);
        let edges = imports(&root);
        assert!(
            find_cycle(&edges).is_none(),
            "{crate_src}: modules that import each other: {:?}",
            find_cycle(&edges)
        );
    }
    let root = repo.join("shared/src");
    let upward: Vec<String> = imports(&root)
        .into_iter()
        .filter(|(from, to)| {
            let (from, to) = (module_path(&root, from), module_path(&root, to));
            let layer = |path: &[String]| match path.first().map(String::as_str) {
                Some("http") => 3,
                Some("chat") => 2,
                Some("store") => 1,
                _ => 0,
            };
            layer(&from) != 0 && layer(&to) > layer(&from)
        })
        .map(|(from, to)| format!("{} -> {}", from.display(), to.display()))
        .collect();
    assert!(upward.is_empty(), "http -> chat -> store only: {upward:?}");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let (a, b, c) = (PathBuf::from("a"), PathBuf::from("b"), PathBuf::from("c"));
    let chain = [(a.clone(), b.clone()), (b.clone(), c.clone())];
    assert!(find_cycle(&chain).is_none());
    let cycle = [(a.clone(), b.clone()), (b.clone(), c.clone()), (c, a)];
    assert_eq!(find_cycle(&cycle).map(|c| c.len()), Some(3));
}
