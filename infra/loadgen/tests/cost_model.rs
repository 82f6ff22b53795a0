//! The cost model's own tests (infra/cost/test_cost_model.py: its arithmetic on a small fixed
//! input), run here so that `cargo test --workspace`, and so `make test`, runs them.

use std::path::Path;
use std::process::Command;

#[test]
fn the_cost_model_arithmetic_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The project's venv when it exists; the script needs only the standard library.
    let venv = root.join(".venv/bin/python");
    let python = if venv.exists() {
        venv.into_os_string()
    } else {
        "python3".into()
    };
    let output = Command::new(python)
        .arg(root.join("infra/cost/test_cost_model.py"))
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
