//! The python tests of the numbers behind the cost model, run here so that
//! `cargo test --workspace`, and so `make test`, runs them: the cost model's arithmetic on a
//! small fixed input (infra/cost/test_cost_model.py), the per-key load model
//! (infra/cost/test_partition_load.py) and the local DynamoDB server's consumed capacity
//! (infra/test_dynamodb_capacity.py).

use std::path::Path;
use std::process::Command;

fn run_python(script: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The project's venv when it exists (the server test needs its moto); the models need
    // only the standard library.
    let venv = root.join(".venv/bin/python");
    let python = if venv.exists() {
        venv.into_os_string()
    } else {
        "python3".into()
    };
    let output = Command::new(python)
        .arg(root.join(script))
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_cost_model_arithmetic_holds() {
    run_python("infra/cost/test_cost_model.py");
}

#[test]
fn the_local_server_consumes_capacity_as_dynamodb_does() {
    run_python("infra/test_dynamodb_capacity.py");
}

#[test]
fn the_per_key_load_model_holds() {
    run_python("infra/cost/test_partition_load.py");
}
