//! Reads `template.yaml`: the routes (the single routing truth), the WebSocket API and the table
//! definition.

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

/// API Gateway's token bucket settings for a stage or a route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    /// Steady requests (messages, connections) per second.
    pub rate_limit: f64,
    /// The bucket's size.
    pub burst_limit: f64,
}

/// One route of the WebSocket API.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketRoute {
    /// `$connect`, `$disconnect`, `$default` or a value of the route selection expression.
    pub key: String,
    /// The function's `CodeUri` directory name.
    pub function: String,
    /// Whether it is two-way (the function's answer goes back to the client as a frame): a
    /// `RouteResponseSelectionExpression` on the route and an `AWS::ApiGatewayV2::RouteResponse`
    /// for it. Both are required here, the stricter reading of API Gateway's docs, so that a
    /// template missing either fails locally rather than only once deployed.
    pub route_response: bool,
    /// The route's own setting, else the stage's default.
    pub throttle: Option<Throttle>,
}

/// The one `AWS::Serverless::WebSocketApi`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketApiSpec {
    pub logical_id: String,
    pub stage: String,
    /// E.g. `$request.body.action`.
    pub route_selection_expression: String,
    pub routes: Vec<SocketRoute>,
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

    /// The WebSocket API (`AWS::Serverless::WebSocketApi`), if the template has one: each
    /// route's function, whether a route response makes it two-way, and its throttle with the
    /// parameters' defaults resolved.
    pub fn websocket_api(&self) -> Result<Option<WebSocketApiSpec>, TemplateError> {
        let mut apis = self.resources_of_type("AWS::Serverless::WebSocketApi")?;
        let Some((api_id, api)) = apis.next() else {
            return Ok(None);
        };
        if apis.next().is_some() {
            return Err(shape(
                "more than one AWS::Serverless::WebSocketApi; the design has one",
            ));
        }
        let props = api
            .get("Properties")
            .ok_or_else(|| shape(format!("{api_id} has no Properties")))?;
        let stage = str_at(props, "StageName")
            .filter(|stage| !stage.is_empty() && !stage.contains('/'))
            .ok_or_else(|| shape(format!("{api_id} has no literal StageName")))?;
        let selection = str_at(props, "RouteSelectionExpression")
            .ok_or_else(|| shape(format!("{api_id} has no RouteSelectionExpression")))?;
        let default_throttle = match props.get("DefaultRouteSettings") {
            Some(settings) => self.throttle(settings)?,
            None => None,
        };
        let route_settings = props.get("RouteSettings");
        let two_way = self.route_response_ids(api_id)?;
        let mut routes = Vec::new();
        for (key, route) in props
            .get("Routes")
            .and_then(Value::as_mapping)
            .ok_or_else(|| shape(format!("{api_id} has no Routes")))?
        {
            let key = key
                .as_str()
                .ok_or_else(|| shape(format!("{api_id} has a route key that is not text")))?;
            let function_id = route
                .get("FunctionArn")
                .and_then(referenced_resource)
                .ok_or_else(|| {
                    shape(format!(
                        "{api_id} route {key}: FunctionArn is not a !Ref or !GetAtt of a function"
                    ))
                })?;
            let throttle = match route_settings.and_then(|settings| settings.get(key)) {
                Some(settings) => self.throttle(settings)?.or(default_throttle),
                None => default_throttle,
            };
            routes.push(SocketRoute {
                key: key.to_owned(),
                function: self.function_crate(function_id)?,
                route_response: route.get("RouteResponseSelectionExpression").is_some()
                    && two_way.contains(&route_logical_id(api_id, key)),
                throttle,
            });
        }
        routes.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Some(WebSocketApiSpec {
            logical_id: api_id.to_owned(),
            stage: stage.to_owned(),
            route_selection_expression: selection.to_owned(),
            routes,
        }))
    }

    /// The route logical ids (as SAM names them) that have a route response on `api_id`.
    fn route_response_ids(&self, api_id: &str) -> Result<Vec<String>, TemplateError> {
        Ok(self
            .resources_of_type("AWS::ApiGatewayV2::RouteResponse")?
            .filter_map(|(_, resource)| resource.get("Properties"))
            .filter(|props| props.get("ApiId").and_then(referenced_resource) == Some(api_id))
            .filter_map(|props| props.get("RouteId").and_then(referenced_resource))
            .map(str::to_owned)
            .collect())
    }

    /// A function resource's crate: its `CodeUri` directory name.
    fn function_crate(&self, logical_id: &str) -> Result<String, TemplateError> {
        let code_uri = self
            .resources()?
            .get(logical_id)
            .filter(|r| str_at(r, "Type") == Some("AWS::Serverless::Function"))
            .and_then(|r| r.get("Properties"))
            .and_then(|p| str_at(p, "CodeUri"))
            .ok_or_else(|| shape(format!("{logical_id} is not a function with a CodeUri")))?;
        Ok(code_uri
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(code_uri)
            .to_owned())
    }

    fn throttle(&self, settings: &Value) -> Result<Option<Throttle>, TemplateError> {
        let rate = settings
            .get("ThrottlingRateLimit")
            .map(|v| self.number(v))
            .transpose()?;
        let burst = settings
            .get("ThrottlingBurstLimit")
            .map(|v| self.number(v))
            .transpose()?;
        Ok(match (rate, burst) {
            (None, None) => None,
            (rate, burst) => Some(Throttle {
                rate_limit: rate.unwrap_or(f64::INFINITY),
                burst_limit: burst.unwrap_or(f64::INFINITY),
            }),
        })
    }

    /// A number, written as such or as a `!Ref` to a parameter (its `Default`, as a stack
    /// deployed without overrides has it).
    fn number(&self, value: &Value) -> Result<f64, TemplateError> {
        if let Some(number) = value.as_f64() {
            return Ok(number);
        }
        let name = ref_target(value).ok_or_else(|| shape(format!("not a number: {value:?}")))?;
        let default = self
            .root
            .get("Parameters")
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("Default"))
            .ok_or_else(|| shape(format!("parameter {name} has no Default")))?;
        default
            .as_f64()
            .or_else(|| default.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| shape(format!("parameter {name}'s Default is not a number")))
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

/// What `!Ref X` (or `{Ref: X}`) names.
fn ref_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        Value::Mapping(map) if map.len() == 1 => map.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

/// The resource a `!Ref X`, `!Ref X.Alias` (SAM's alias of function X), `!GetAtt X.Arn` or
/// their long forms points at.
fn referenced_resource(value: &Value) -> Option<&str> {
    let target = match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => match &tagged.value {
            Value::Sequence(parts) => parts.first().and_then(Value::as_str),
            other => other.as_str(),
        },
        Value::Mapping(map) if map.len() == 1 && map.contains_key("Fn::GetAtt") => {
            match map.get("Fn::GetAtt")? {
                Value::Sequence(parts) => parts.first().and_then(Value::as_str),
                other => other.as_str(),
            }
        }
        other => ref_target(other),
    }?;
    Some(target.split('.').next().unwrap_or(target))
}

/// The logical id SAM gives a WebSocket route (samtranslator's `websocket_api_generator`):
/// `$default` of `PushApi` is `PushApiDefaultRoute`, `sendmessage` is `PushApiSendmessageRoute`.
fn route_logical_id(api_id: &str, route_key: &str) -> String {
    let key = route_key.trim_start_matches('$');
    let mut chars = key.chars();
    let capitalized: String = match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    };
    format!("{api_id}{capitalized}Route")
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
        assert_eq!(template.websocket_api().unwrap(), None);
    }

    #[test]
    fn the_websocket_api_of_template_yaml() {
        let template = Template::workspace_default().unwrap();
        let api = template
            .websocket_api()
            .unwrap()
            .expect("template.yaml has a WebSocket API");
        assert_eq!(api.logical_id, "PushApi");
        assert_eq!(api.stage, "v1");
        assert_eq!(api.route_selection_expression, "$request.body.action");
        let default = |name: &str| {
            template.root["Parameters"][name]["Default"]
                .as_f64()
                .unwrap()
        };
        let throttle = |rate: &str, burst: &str| {
            Some(Throttle {
                rate_limit: default(rate),
                burst_limit: default(burst),
            })
        };
        let messages = throttle("PushRateLimit", "PushBurstLimit");
        assert_eq!(
            api.routes,
            vec![
                SocketRoute {
                    key: "$connect".into(),
                    function: "push-connect".into(),
                    route_response: false,
                    throttle: throttle("PushConnectRateLimit", "PushConnectBurstLimit"),
                },
                SocketRoute {
                    key: "$default".into(),
                    function: "push-message".into(),
                    route_response: true,
                    throttle: messages,
                },
                SocketRoute {
                    key: "$disconnect".into(),
                    function: "push-disconnect".into(),
                    route_response: false,
                    throttle: messages,
                },
            ]
        );
    }

    #[test]
    fn websocket_routes_reference_functions_in_every_form() {
        let template = Template::parse(
            r#"
Resources:
  Ws:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      StageName: prod
      RouteSelectionExpression: "$request.body.kind"
      Routes:
        $connect: {FunctionArn: !GetAtt OpenFunction.Arn}
        sendMessage: {FunctionArn: {"Fn::GetAtt": [SendFunction, Arn]}, RouteResponseSelectionExpression: $default}
        # A route response without the route's selection expression: one-way.
        $default: {FunctionArn: {Ref: SendFunction.Alias}}
      RouteSettings:
        sendMessage: {ThrottlingRateLimit: 5, ThrottlingBurstLimit: 2}
  SendResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {ApiId: !Ref Ws, RouteId: !Ref WsSendmessageRoute, RouteResponseKey: $default}
  DefaultResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {ApiId: !Ref Ws, RouteId: !Ref WsDefaultRoute, RouteResponseKey: $default}
  OpenFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: functions/open/}}
  SendFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: functions/send}}
"#,
        )
        .unwrap();
        let api = template.websocket_api().unwrap().unwrap();
        let summary: Vec<_> = api
            .routes
            .iter()
            .map(|r| {
                (
                    r.key.as_str(),
                    r.function.as_str(),
                    r.route_response,
                    r.throttle,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("$connect", "open", false, None),
                ("$default", "send", false, None),
                (
                    "sendMessage",
                    "send",
                    true,
                    Some(Throttle {
                        rate_limit: 5.0,
                        burst_limit: 2.0
                    })
                ),
            ]
        );
    }
}
