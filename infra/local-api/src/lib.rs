//! The local stack, our stand-in for `sam local` (which needs Docker): a DynamoDB-compatible
//! server, the table `template.yaml` defines, and one port serving what API Gateway would:
//! the REST API, handing each function's handler the event of a Lambda proxy integration
//! ([`gateway`]), and the WebSocket API with its `@connections` management endpoint
//! ([`websocket`]), whose routes get the WebSocket proxy events.

pub mod dynamodb_server;
pub mod error;
pub mod gateway;
pub mod registry;
mod request_parts;
pub mod stream;
pub mod template;
pub mod throttle;
pub mod websocket;

pub use dynamodb_server::DynamoDbServer;
pub use gateway::{Gateway, GatewayListener, RunningGateway};
pub use stream::{RunningStreamMapping, StartingPosition, StreamMapping};
pub use template::{Route, Template};
