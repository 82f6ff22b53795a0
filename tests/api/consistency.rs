//! One set of endpoints everywhere: template.yaml's routes, the functions under functions/,
//! the local API's handlers, and the OpenAPI document. And one table definition.

use chat_core::endpoint::Handler;
use chat_tests::spawn_app;
use local_api::{registry, Template};
use std::collections::BTreeSet;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn template_routes() -> BTreeSet<(String, String)> {
    Template::workspace_default()
        .unwrap()
        .routes()
        .unwrap()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

#[test]
fn every_function_has_a_route_a_handler_and_a_crate() {
    let template = Template::workspace_default().unwrap();
    // A REST route, a WebSocket route, or the table's stream: what invokes each function.
    let mut routed: BTreeSet<String> = template
        .routes()
        .unwrap()
        .into_iter()
        .map(|r| r.function)
        .collect();
    let sockets = template.websocket_api().unwrap().expect("the push API");
    let socket_functions: BTreeSet<String> =
        sockets.routes.iter().map(|r| r.function.clone()).collect();
    assert_eq!(
        socket_functions,
        BTreeSet::from(["push-connect", "push-disconnect", "push-message"].map(String::from)),
        "one function per WebSocket route"
    );
    let consumers: BTreeSet<String> = template
        .dynamodb_events()
        .unwrap()
        .into_iter()
        .map(|e| e.function)
        .collect();
    assert_eq!(
        consumers,
        BTreeSet::from(["push-fanout".to_owned()]),
        "stream consumers"
    );
    routed.extend(socket_functions);
    routed.extend(consumers);
    for endpoint in registry::endpoints() {
        let kind_matches = match endpoint.handler {
            Handler::Socket(_) => sockets.routes.iter().any(|r| r.function == endpoint.name),
            Handler::Stream(_) => endpoint.name == "push-fanout",
            Handler::Api { .. } | Handler::Files(_) => template
                .routes()
                .unwrap()
                .iter()
                .any(|r| r.function == endpoint.name),
        };
        assert!(
            kind_matches,
            "{} is invoked as its handler expects",
            endpoint.name
        );
    }
    let handlers: BTreeSet<String> = registry::endpoints()
        .iter()
        .map(|e| e.name.to_owned())
        .collect();
    let scheduled: BTreeSet<String> = Template::workspace_default()
        .unwrap()
        .scheduled_functions()
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        scheduled,
        BTreeSet::from(["idle-sweep".to_owned()]),
        "functions started by a schedule"
    );
    let crates: BTreeSet<String> = std::fs::read_dir(repo().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Cargo.toml").exists())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        routed, handlers,
        "template.yaml functions vs local API handlers"
    );
    assert_eq!(
        routed.union(&scheduled).cloned().collect::<BTreeSet<_>>(),
        crates,
        "template.yaml functions vs crates under functions/"
    );
}

#[test]
fn the_openapi_document_describes_exactly_the_template_routes() {
    let text = std::fs::read_to_string(repo().join("docs/openapi.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut documented = BTreeSet::new();
    for (path, operations) in doc["paths"].as_mapping().unwrap() {
        for (method, operation) in operations.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if method == "parameters" {
                continue;
            }
            assert!(
                operation["responses"]
                    .as_mapping()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path:?} documents its responses"
            );
            documented.insert((
                method.to_ascii_uppercase(),
                path.as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(documented, template_routes());
}

/// Each endpoint's failure answer (declared once, in its `ENDPOINT`) is the one the OpenAPI
/// document lists for its route(s), status and code.
#[test]
fn every_endpoint_failure_is_documented_on_its_routes() {
    let text = std::fs::read_to_string(repo().join("docs/openapi.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let routes = Template::workspace_default().unwrap().routes().unwrap();
    let mut checked = 0;
    for endpoint in registry::endpoints() {
        let Some(failure) = endpoint.failure() else {
            // Static files need no DynamoDB; WebSocket routes and the stream consumer answer
            // API Gateway and Lambda, not a REST client (docs/asyncapi.yaml).
            assert!(
                matches!(
                    endpoint.handler,
                    Handler::Files(_) | Handler::Socket(_) | Handler::Stream(_)
                ),
                "{} declares no failure",
                endpoint.name
            );
            continue;
        };
        for route in routes.iter().filter(|r| r.function == endpoint.name) {
            let operation =
                &doc["paths"][route.path.as_str()][route.method.to_lowercase().as_str()];
            let status = failure.status.as_u16().to_string();
            let reference = operation["responses"][status.as_str()]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{} {} documents no {status}", route.method, route.path));
            let name = reference.trim_start_matches("#/components/responses/");
            let response = &doc["components"]["responses"][name];
            let codes = &response["content"]["application/json"]["schema"]["allOf"][1]
                ["properties"]["error"]["properties"]["code"]["enum"];
            let codes: Vec<&str> = codes
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .collect();
            assert!(
                codes.contains(&failure.code),
                "{} {}: {} answers {status} {}, the document lists {codes:?}",
                route.method,
                route.path,
                endpoint.name,
                failure.code
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} routes checked");
}

#[tokio::test]
async fn the_local_table_is_the_one_the_template_deploys() {
    let app = spawn_app().await;
    let table = app
        .inspector
        .describe_table()
        .table_name(&app.table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [("PK".into(), "HASH".into()), ("SK".into(), "RANGE".into())]
    );
    let index = &table.global_secondary_indexes()[0];
    assert_eq!(index.index_name(), Some("GSI1"));
    let ttl = app
        .inspector
        .describe_time_to_live()
        .table_name(&app.table)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name(), Some("expiresAt"));
}

#[tokio::test]
async fn the_local_gateway_refuses_an_unknown_route_as_the_template_words_it() {
    let text = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let template = doc["Resources"]["ChatApi"]["Properties"]["GatewayResponses"]
        ["MISSING_AUTHENTICATION_TOKEN"]["ResponseTemplates"]["application/json"]
        .as_str()
        .unwrap();
    let app = spawn_app().await;
    let response = app.get("/api/no/such/route", None).await;
    let request_id = response.body["error"]["details"]["requestId"]
        .as_str()
        .unwrap_or_default();
    assert!(!request_id.is_empty(), "{}", response.body);
    let expected: serde_json::Value =
        serde_json::from_str(&template.replace("$context.requestId", request_id)).unwrap();
    assert_eq!((response.status, &response.body), (404, &expected));
}

/// Where moto is kinder than DynamoDB, the local server is not: a start key of the wrong shape
/// or partition is refused, as DynamoDB refuses it (our own cursor checks must catch these
/// first; this makes a miss fail the tests instead of passing locally and failing on AWS).
#[tokio::test]
async fn the_local_server_refuses_start_keys_dynamodb_refuses() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::collections::HashMap;
    let app = spawn_app().await;
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let query = |start: HashMap<String, AttributeValue>| {
        app.inspector
            .query()
            .table_name(&app.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :p")
            .expression_attribute_values(":p", s("ACTIVE"))
            .set_exclusive_start_key(Some(start))
            .send()
    };
    let good = HashMap::from([
        ("PK".to_owned(), s("SESSION#abcdefgh")),
        ("SK".to_owned(), s("SESSION")),
        ("GSI1PK".to_owned(), s("ACTIVE")),
        ("GSI1SK".to_owned(), s("2026-01-01T00:00:00.000Z#abcdefgh")),
    ]);
    query(good.clone())
        .await
        .expect("a key of the index's shape");
    let mut other_partition = good.clone();
    other_partition.insert("GSI1PK".to_owned(), s("ACTIVITY#x"));
    let mut missing = good.clone();
    missing.remove("GSI1SK");
    let mut extra = good.clone();
    extra.insert("GSI2PK".to_owned(), s("ADMIN"));
    let mut number = good.clone();
    number.insert("SK".to_owned(), AttributeValue::N("1".to_owned()));
    for start in [other_partition, missing, extra, number] {
        let err = query(start).await.expect_err("refused");
        assert!(
            format!("{err:?}").contains("ValidationException"),
            "{err:?}"
        );
    }
}
