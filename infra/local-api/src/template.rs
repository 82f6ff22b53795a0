//! Reads `template.yaml`: the routes (the single routing truth) and the table definition.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde_yaml::Value;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template.yaml: {0}")]
    Shape(String),
    #[error("creating the table failed: {0}")]
    CreateTable(String),
}

/// One API event of one function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// Upper case, as API Gateway names it.
    pub method: String,
    /// As in the template, with `{param}` placeholders.
    pub path: String,
    /// The function's `CodeUri` directory name (its crate under `functions/`).
    pub function: String,
}

/// A function's `Type: DynamoDB` event: the stream's event source mapping.
#[derive(Debug, Clone)]
pub struct DynamoDbEvent {
    /// The function's `CodeUri` directory name.
    pub function: String,
    /// The event's `Properties` as written (`Stream` is an intrinsic: the local stream is
    /// the table's own).
    pub properties: Value,
    /// The function's `Timeout` (else the template's `Globals`, else SAM's 3 s).
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

fn shape(message: impl Into<String>) -> TemplateError {
    TemplateError::Shape(message.into())
}

fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Ok(Self {
            root: serde_yaml::from_str(text)?,
        })
    }

    /// The repository's own template, found from this crate's directory.
    pub fn workspace_default() -> Result<Self, TemplateError> {
        Self::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))
    }

    fn resources(&self) -> Result<&serde_yaml::Mapping, TemplateError> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| shape("no Resources"))
    }

    fn resources_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> Result<impl Iterator<Item = (&'a str, &'a Value)> + 'a, TemplateError> {
        Ok(self
            .resources()?
            .iter()
            .filter_map(move |(name, resource)| {
                (str_at(resource, "Type") == Some(kind)).then_some((name.as_str()?, resource))
            }))
    }

    /// Every `Type: Api` event of every function, sorted.
    pub fn routes(&self) -> Result<Vec<Route>, TemplateError> {
        let mut routes = Vec::new();
        for (name, function) in self.resources_of_type("AWS::Serverless::Function")? {
            let properties = function
                .get("Properties")
                .ok_or_else(|| shape(format!("{name} has no Properties")))?;
            let code_uri = str_at(properties, "CodeUri")
                .ok_or_else(|| shape(format!("{name} has no CodeUri")))?;
            let crate_name = code_uri
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(code_uri);
            let events = properties.get("Events").and_then(Value::as_mapping);
            for event in events.into_iter().flat_map(|e| e.values()) {
                if str_at(event, "Type") != Some("Api") {
                    continue;
                }
                let props = event
                    .get("Properties")
                    .ok_or_else(|| shape(format!("{name} has an Api event without Properties")))?;
                let (Some(path), Some(method)) = (str_at(props, "Path"), str_at(props, "Method"))
                else {
                    return Err(shape(format!(
                        "{name} has an Api event without Path or Method"
                    )));
                };
                routes.push(Route {
                    method: method.to_ascii_uppercase(),
                    path: path.to_owned(),
                    function: crate_name.to_owned(),
                });
            }
        }
        routes.sort();
        Ok(routes)
    }

    /// Every `Type: DynamoDB` event of every function (the stream consumers).
    pub fn dynamodb_events(&self) -> Result<Vec<DynamoDbEvent>, TemplateError> {
        let mut found = Vec::new();
        for (name, function) in self.resources_of_type("AWS::Serverless::Function")? {
            let properties = function
                .get("Properties")
                .ok_or_else(|| shape(format!("{name} has no Properties")))?;
            let events = properties.get("Events").and_then(Value::as_mapping);
            for event in events.into_iter().flat_map(|e| e.values()) {
                if str_at(event, "Type") != Some("DynamoDB") {
                    continue;
                }
                let code_uri = str_at(properties, "CodeUri")
                    .ok_or_else(|| shape(format!("{name} has no CodeUri")))?;
                found.push(DynamoDbEvent {
                    function: code_uri
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(code_uri)
                        .to_owned(),
                    properties: event.get("Properties").cloned().unwrap_or(Value::Null),
                    timeout_seconds: properties
                        .get("Timeout")
                        .or_else(|| {
                            self.root
                                .get("Globals")
                                .and_then(|g| g.get("Function"))
                                .and_then(|f| f.get("Timeout"))
                        })
                        .and_then(Value::as_u64)
                        .unwrap_or(3),
                });
            }
        }
        Ok(found)
    }

    /// Functions started by a `Schedule` event (not by a route), by `CodeUri` directory name.
    pub fn scheduled_functions(&self) -> Result<Vec<String>, TemplateError> {
        let mut names = Vec::new();
        for (name, function) in self.resources_of_type("AWS::Serverless::Function")? {
            let properties = function
                .get("Properties")
                .ok_or_else(|| shape(format!("{name} has no Properties")))?;
            let scheduled = properties
                .get("Events")
                .and_then(Value::as_mapping)
                .is_some_and(|events| {
                    events
                        .values()
                        .any(|event| str_at(event, "Type") == Some("Schedule"))
                });
            if scheduled {
                let code_uri = str_at(properties, "CodeUri")
                    .ok_or_else(|| shape(format!("{name} has no CodeUri")))?;
                names.push(
                    code_uri
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(code_uri)
                        .to_owned(),
                );
            }
        }
        names.sort();
        Ok(names)
    }

    /// The stage the API is deployed to (`StageName` of its one `AWS::Serverless::Api`): the
    /// first path segment of the execute-api URL.
    pub fn stage_name(&self) -> Result<String, TemplateError> {
        let mut apis = self.resources_of_type("AWS::Serverless::Api")?;
        let (name, api) = apis
            .next()
            .ok_or_else(|| shape("no AWS::Serverless::Api"))?;
        if apis.next().is_some() {
            return Err(shape(
                "more than one AWS::Serverless::Api; the design has one",
            ));
        }
        api.get("Properties")
            .and_then(|p| str_at(p, "StageName"))
            .filter(|stage| !stage.is_empty() && !stage.contains('/'))
            .map(str::to_owned)
            .ok_or_else(|| shape(format!("{name} has no literal StageName")))
    }

    fn table_properties(&self) -> Result<&Value, TemplateError> {
        let mut tables = self.resources_of_type("AWS::DynamoDB::Table")?;
        let (_, table) = tables
            .next()
            .ok_or_else(|| shape("no AWS::DynamoDB::Table"))?;
        if tables.next().is_some() {
            return Err(shape("more than one table; the design has one"));
        }
        table
            .get("Properties")
            .ok_or_else(|| shape("the table has no Properties"))
    }

    /// Creates the table exactly as the template defines it (keys, indexes, stream, TTL),
    /// unless a table of that name exists already. True when it created the table (a stream
    /// consumer then reads that stream from its start: nothing was written before it).
    pub async fn ensure_table(
        &self,
        client: &Client,
        table_name: &str,
    ) -> Result<bool, TemplateError> {
        let existing = client
            .list_tables()
            .send()
            .await
            .map_err(|e| TemplateError::CreateTable(e.to_string()))?;
        if existing.table_names().iter().any(|t| t == table_name) {
            return Ok(false);
        }
        let props = self.table_properties()?;
        let list = |key: &str| {
            props
                .get(key)
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default()
        };

        let attributes = list("AttributeDefinitions")
            .iter()
            .map(|a| {
                let name =
                    str_at(a, "AttributeName").ok_or_else(|| shape("AttributeName missing"))?;
                let kind =
                    str_at(a, "AttributeType").ok_or_else(|| shape("AttributeType missing"))?;
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::from(kind))
                    .build()
                    .map_err(|e| shape(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut request = client
            .create_table()
            .table_name(table_name)
            .set_attribute_definitions(Some(attributes))
            .set_key_schema(Some(key_schema(props.get("KeySchema"))?))
            .billing_mode(BillingMode::from(
                str_at(props, "BillingMode").unwrap_or("PAY_PER_REQUEST"),
            ));
        if let Some(stream) = props.get("StreamSpecification") {
            let view = str_at(stream, "StreamViewType")
                .ok_or_else(|| shape("StreamSpecification without StreamViewType"))?;
            request = request.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(view))
                    .build()
                    .map_err(|e| shape(e.to_string()))?,
            );
        }
        for index in list("GlobalSecondaryIndexes") {
            let projection = index.get("Projection");
            let mut built = Projection::builder().projection_type(ProjectionType::from(
                projection
                    .and_then(|p| str_at(p, "ProjectionType"))
                    .unwrap_or("ALL"),
            ));
            for attr in projection
                .and_then(|p| p.get("NonKeyAttributes"))
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                built = built.non_key_attributes(attr);
            }
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(
                        str_at(&index, "IndexName").ok_or_else(|| shape("IndexName missing"))?,
                    )
                    .set_key_schema(Some(key_schema(index.get("KeySchema"))?))
                    .projection(built.build())
                    .build()
                    .map_err(|e| shape(e.to_string()))?,
            );
        }
        request.send().await.map_err(|e| {
            TemplateError::CreateTable(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
        })?;

        if let Some(ttl) = props.get("TimeToLiveSpecification") {
            let attribute =
                str_at(ttl, "AttributeName").ok_or_else(|| shape("TTL AttributeName missing"))?;
            let enabled = ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
            client
                .update_time_to_live()
                .table_name(table_name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attribute)
                        .enabled(enabled)
                        .build()
                        .map_err(|e| shape(e.to_string()))?,
                )
                .send()
                .await
                .map_err(|e| TemplateError::CreateTable(e.to_string()))?;
        }
        Ok(true)
    }
}

fn key_schema(value: Option<&Value>) -> Result<Vec<KeySchemaElement>, TemplateError> {
    value
        .and_then(Value::as_sequence)
        .ok_or_else(|| shape("KeySchema missing"))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(
                    str_at(k, "AttributeName").ok_or_else(|| shape("key AttributeName missing"))?,
                )
                .key_type(KeyType::from(
                    str_at(k, "KeyType").ok_or_else(|| shape("KeyType missing"))?,
                ))
                .build()
                .map_err(|e| shape(e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_routes_with_intrinsic_functions_around_them() {
        let template = Template::parse(
            r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: !Sub "${AWS::StackName}-chat"}
  Poll:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/poll-messages/
      Environment: {Variables: {TABLE_NAME: !Ref Table}}
      Events:
        Api: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/api/chat/poll/{sessionId}", Method: get}}
        Timer: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
"#,
        )
        .unwrap();
        assert_eq!(
            template.routes().unwrap(),
            vec![Route {
                method: "GET".into(),
                path: "/api/chat/poll/{sessionId}".into(),
                function: "poll-messages".into()
            }]
        );
    }
}
