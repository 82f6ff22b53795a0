//! The ops command against a real table: an operator's day with it.

use local_api::{DynamoDbServer, Template};
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Ops {
    endpoint: String,
    table: String,
}

impl Ops {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-admin"))
            .args(args)
            .env("TABLE_NAME", &self.table)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run chat-admin");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.run(args, stdin);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

#[tokio::test]
async fn operators_create_list_deactivate_activate_and_reset_admins() {
    let server = DynamoDbServer::start().expect("DynamoDB server");
    let ops = Ops {
        endpoint: server.endpoint().to_owned(),
        table: "ops-test".to_owned(),
    };
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(server.endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "t", "t", None, None, "t",
        ))
        .build();
    Template::workspace_default()
        .unwrap()
        .ensure_table(&aws_sdk_dynamodb::Client::from_conf(config), &ops.table)
        .await
        .unwrap();

    let created = ops.ok(
        &[
            "create",
            "--email",
            "Lead@Support.Example",
            "--name",
            "Team Lead",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(created.contains("lead@support.example") && created.contains("active"));
    assert!(
        !created.contains("password:"),
        "a given password is not echoed"
    );

    let generated = ops.ok(
        &[
            "create",
            "--email",
            "agent@support.example",
            "--name",
            "Agent",
        ],
        None,
    );
    let password = generated
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap();
    assert!(password.len() >= 20);

    let duplicate = ops.run(
        &[
            "create",
            "--email",
            "agent@support.example",
            "--name",
            "Again",
        ],
        None,
    );
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let weak = ops.run(
        &[
            "create",
            "--email",
            "x@y.z",
            "--name",
            "X",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!weak.status.success());

    let listed = ops.ok(&["list"], None);
    assert_eq!(listed.lines().count(), 2);

    assert!(ops
        .ok(&["deactivate", "--email", "agent@support.example"], None)
        .contains("deactivated"));
    assert!(ops.ok(&["list"], None).contains("deactivated"));
    assert!(!ops
        .ok(&["activate", "--email", "agent@support.example"], None)
        .contains("deactivated"));
    let reset = ops.ok(
        &["reset-password", "--email", "agent@support.example"],
        None,
    );
    assert!(reset.contains("password: "));
    let missing = ops.run(&["deactivate", "--email", "nobody@support.example"], None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no admin"));
}
